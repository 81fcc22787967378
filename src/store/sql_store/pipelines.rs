//! Pipelines and stages.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::pipeline::{
    NewPipeline, NewStage, Pipeline, PipelineChanges, Stage, StageChanges, StageFilter,
};
use crate::domain::ports::{Edit, PipelineStore, StoreError};
use crate::domain::query::ListQuery;
use crate::domain::webhook::Stamp;
use crate::store::sql::webhooks::{self, On};
use crate::store::sql::{Backend, pipelines};

const PIPELINE: &str = "pipeline";
const STAGE: &str = "stage";

#[async_trait]
impl<B: Backend> PipelineStore for SqlStore<B> {
    async fn insert_pipeline(&self, pipeline: NewPipeline) -> Result<Pipeline, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let p = pipelines::insert_pipeline(db, &pipeline).await?;
                let by = Stamp::now(pipeline.user_id);
                webhooks::added(db, &emits, On::new(p.company_id, PIPELINE, p.id), by, &p).await?;
                Ok(p)
            })
        })
        .await
    }

    async fn pipeline(&self, company_id: i64, id: i64) -> Result<Option<Pipeline>, StoreError> {
        self.backend
            .read(op!(db => pipelines::pipeline(db, company_id, id).await))
            .await
    }

    async fn list_pipelines(
        &self,
        company_id: i64,
        query: ListQuery<()>,
    ) -> Result<Vec<Pipeline>, StoreError> {
        self.backend
            .read(op!(db => pipelines::list_pipelines(db, company_id, &query).await))
            .await
    }

    async fn update_pipeline(
        &self,
        company_id: i64,
        id: i64,
        changes: PipelineChanges,
        by: Stamp,
    ) -> Result<Option<Pipeline>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let before = pipelines::pipeline(db, company_id, id).await?;
                let after = pipelines::update_pipeline(db, company_id, id, &changes, by.time).await?;
                if let (Some(before), Some(after)) = (&before, &after) {
                    let on = On::new(company_id, PIPELINE, id);
                    webhooks::updated(db, &emits, on, by, (before, after)).await?;
                }
                Ok(after)
            })
        })
        .await
    }

    async fn delete_pipeline(
        &self,
        company_id: i64,
        id: i64,
        decide: Edit<i64, ()>,
        by: Stamp,
    ) -> Result<bool, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let deleted = pipelines::delete_pipeline(db, company_id, id, decide, by.time).await?;
                if deleted {
                    let last = pipelines::pipeline(db, company_id, id);
                    let on = On::new(company_id, PIPELINE, id);
                    webhooks::deleted(db, &emits, (on, by), None, last).await?;
                }
                Ok(deleted)
            })
        })
        .await
    }

    async fn insert_stage(&self, stage: NewStage) -> Result<Stage, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let s = pipelines::insert_stage(db, &stage).await?;
                let by = Stamp::now(stage.user_id);
                webhooks::added(db, &emits, On::new(s.company_id, STAGE, s.id), by, &s).await?;
                Ok(s)
            })
        })
        .await
    }

    async fn stage(&self, company_id: i64, id: i64) -> Result<Option<Stage>, StoreError> {
        self.backend
            .read(op!(db => pipelines::stage(db, company_id, id).await))
            .await
    }

    async fn list_stages(
        &self,
        company_id: i64,
        query: ListQuery<StageFilter>,
    ) -> Result<Vec<Stage>, StoreError> {
        self.backend
            .read(op!(db => pipelines::list_stages(db, company_id, &query).await))
            .await
    }

    async fn update_stage(
        &self,
        company_id: i64,
        id: i64,
        changes: StageChanges,
        by: Stamp,
    ) -> Result<Option<Stage>, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let before = pipelines::stage(db, company_id, id).await?;
                let after = pipelines::update_stage(db, company_id, id, &changes, by.time).await?;
                if let (Some(before), Some(after)) = (&before, &after) {
                    let on = On::new(company_id, STAGE, id);
                    webhooks::updated(db, &emits, on, by, (before, after)).await?;
                }
                Ok(after)
            })
        })
        .await
    }

    async fn delete_stage(
        &self,
        company_id: i64,
        id: i64,
        decide: Edit<i64, ()>,
        by: Stamp,
    ) -> Result<bool, StoreError> {
        self.write_emitting(|emits| {
            op!(db => {
                let deleted = pipelines::delete_stage(db, company_id, id, decide, by.time).await?;
                if deleted {
                    let last = pipelines::stage(db, company_id, id);
                    let on = On::new(company_id, STAGE, id);
                    webhooks::deleted(db, &emits, (on, by), None, last).await?;
                }
                Ok(deleted)
            })
        })
        .await
    }
}

//! Pipelines and stages.

use async_trait::async_trait;

use super::SqlStore;
use crate::domain::Timestamp;
use crate::domain::pipeline::{
    NewPipeline, NewStage, Pipeline, PipelineChanges, Stage, StageChanges, StageFilter,
};
use crate::domain::ports::{Edit, PipelineStore, StoreError};
use crate::domain::query::ListQuery;
use crate::store::sql::{Backend, pipelines};

#[async_trait]
impl<B: Backend> PipelineStore for SqlStore<B> {
    async fn insert_pipeline(&self, pipeline: NewPipeline) -> Result<Pipeline, StoreError> {
        self.backend
            .write(op!(db => pipelines::insert_pipeline(db, &pipeline).await))
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
        now: Timestamp,
    ) -> Result<Option<Pipeline>, StoreError> {
        self.backend
            .write(op!(db => pipelines::update_pipeline(db, company_id, id, &changes, now).await))
            .await
    }

    async fn delete_pipeline(
        &self,
        company_id: i64,
        id: i64,
        decide: Edit<i64, ()>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.backend
            .write(op!(db => pipelines::delete_pipeline(db, company_id, id, decide, now).await))
            .await
    }

    async fn insert_stage(&self, stage: NewStage) -> Result<Stage, StoreError> {
        self.backend
            .write(op!(db => pipelines::insert_stage(db, &stage).await))
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
        now: Timestamp,
    ) -> Result<Option<Stage>, StoreError> {
        self.backend
            .write(op!(db => pipelines::update_stage(db, company_id, id, &changes, now).await))
            .await
    }

    async fn delete_stage(
        &self,
        company_id: i64,
        id: i64,
        decide: Edit<i64, ()>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.backend
            .write(op!(db => pipelines::delete_stage(db, company_id, id, decide, now).await))
            .await
    }
}

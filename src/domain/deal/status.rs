//! A deal's status and the times that go with it: what winning, losing and reopening a deal
//! does to `won_time`, `lost_time`, `close_time`, `first_won_time` and `lost_reason`.
//!
//! Pipedrive documents only when each may be set ("can only be set if the deal status is
//! won"…); what a change of status does to them is pipestack's reading of those descriptions:
//! - winning sets `won_time` (now, or as given), `close_time` (the same, or as given) and
//!   `first_won_time` if it was never won, and clears `lost_time` and `lost_reason`;
//! - losing sets `lost_time` and `close_time` likewise and clears `won_time`;
//! - reopening clears `won_time`, `lost_time`, `close_time` and `lost_reason`
//!   (`first_won_time` stays: it was won once);
//! - a time or reason given for a status the deal will not have is a 400 naming it.

use serde_json::Value;

use crate::domain::error::DomainError;
use crate::domain::{Timestamp, values};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DealStatus {
    Open,
    Won,
    Lost,
}

impl DealStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Won => "won",
            Self::Lost => "lost",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "won" => Some(Self::Won),
            "lost" => Some(Self::Lost),
            _ => None,
        }
    }

    /// A status as a body gives it; `deleted` is what a delete does, never a status to set.
    pub fn parse(field: &str, v: &Value) -> Result<Self, DomainError> {
        let s = values::string(field, v)?;
        Self::from_name(s.trim()).ok_or_else(|| {
            DomainError::invalid(field, format!("must be open, won or lost, got {s:?}"))
        })
    }

    pub fn is_closed(self) -> bool {
        self != Self::Open
    }
}

/// The times and reason of a deal's closing.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Closing {
    pub won_time: Option<Timestamp>,
    pub lost_time: Option<Timestamp>,
    pub close_time: Option<Timestamp>,
    pub first_won_time: Option<Timestamp>,
    pub lost_reason: Option<String>,
}

/// What a request gives of the closing: times (`None`: not given) and the lost reason
/// (`Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct ClosingAsked {
    pub won_time: Option<Timestamp>,
    pub lost_time: Option<Timestamp>,
    pub close_time: Option<Timestamp>,
    pub lost_reason: Option<Option<String>>,
}

impl ClosingAsked {
    pub fn is_empty(&self) -> bool {
        self.won_time.is_none()
            && self.lost_time.is_none()
            && self.close_time.is_none()
            && self.lost_reason.is_none()
    }
}

/// The closing of a deal going from `before` (status and closing; a new deal is open with
/// none) to `status`, with what was asked, at `now`.
pub fn closing_after(
    before: (DealStatus, &Closing),
    status: DealStatus,
    asked: &ClosingAsked,
    now: Timestamp,
) -> Result<Closing, DomainError> {
    let only_when = |field: &str, given: bool, wanted: &[DealStatus], what: &str| {
        if given && !wanted.contains(&status) {
            Err(DomainError::invalid(
                field,
                format!("can only be set when the deal is {what}"),
            ))
        } else {
            Ok(())
        }
    };
    only_when(
        "won_time",
        asked.won_time.is_some(),
        &[DealStatus::Won],
        "won",
    )?;
    only_when(
        "lost_time",
        asked.lost_time.is_some(),
        &[DealStatus::Lost],
        "lost",
    )?;
    only_when(
        "lost_reason",
        matches!(asked.lost_reason, Some(Some(_))),
        &[DealStatus::Lost],
        "lost",
    )?;
    only_when(
        "close_time",
        asked.close_time.is_some(),
        &[DealStatus::Won, DealStatus::Lost],
        "won or lost",
    )?;
    let (was, current) = before;
    let changed = was != status;
    let mut c = current.clone();
    match status {
        DealStatus::Open => {
            c.won_time = None;
            c.lost_time = None;
            c.close_time = None;
            c.lost_reason = None;
        }
        DealStatus::Won => {
            let won = asked
                .won_time
                .or(if changed { None } else { c.won_time })
                .unwrap_or(now);
            c.won_time = Some(won);
            c.close_time = asked
                .close_time
                .or(if changed || asked.won_time.is_some() {
                    None
                } else {
                    c.close_time
                })
                .or(Some(won));
            c.first_won_time = c.first_won_time.or(Some(won));
            c.lost_time = None;
            c.lost_reason = None;
        }
        DealStatus::Lost => {
            let lost = asked
                .lost_time
                .or(if changed { None } else { c.lost_time })
                .unwrap_or(now);
            c.lost_time = Some(lost);
            c.close_time = asked
                .close_time
                .or(if changed || asked.lost_time.is_some() {
                    None
                } else {
                    c.close_time
                })
                .or(Some(lost));
            c.won_time = None;
            if let Some(reason) = &asked.lost_reason {
                c.lost_reason = reason.clone();
            } else if changed {
                c.lost_reason = None;
            }
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_000);
    const NOW: Timestamp = Timestamp(2_000);

    fn asked() -> ClosingAsked {
        ClosingAsked::default()
    }

    #[test]
    fn winning_sets_won_close_and_first_won_and_reopening_keeps_only_first_won() {
        let open = Closing::default();
        let won = closing_after((DealStatus::Open, &open), DealStatus::Won, &asked(), NOW).unwrap();
        assert_eq!(won.won_time, Some(NOW));
        assert_eq!(won.close_time, Some(NOW));
        assert_eq!(won.first_won_time, Some(NOW));
        let reopened =
            closing_after((DealStatus::Won, &won), DealStatus::Open, &asked(), NOW).unwrap();
        assert_eq!(
            reopened,
            Closing {
                first_won_time: Some(NOW),
                ..Closing::default()
            }
        );
        let later = Timestamp(3_000);
        let won_again = closing_after(
            (DealStatus::Open, &reopened),
            DealStatus::Won,
            &asked(),
            later,
        )
        .unwrap();
        assert_eq!(won_again.won_time, Some(later));
        assert_eq!(won_again.first_won_time, Some(NOW), "the first win stays");
    }

    #[test]
    fn losing_takes_the_given_time_and_reason_and_clears_the_win() {
        let won = Closing {
            won_time: Some(T0),
            close_time: Some(T0),
            first_won_time: Some(T0),
            ..Closing::default()
        };
        let a = ClosingAsked {
            lost_time: Some(Timestamp(1_500)),
            lost_reason: Some(Some("Price".into())),
            ..asked()
        };
        let lost = closing_after((DealStatus::Won, &won), DealStatus::Lost, &a, NOW).unwrap();
        assert_eq!(lost.lost_time, Some(Timestamp(1_500)));
        assert_eq!(lost.close_time, Some(Timestamp(1_500)));
        assert_eq!(lost.won_time, None);
        assert_eq!(lost.lost_reason.as_deref(), Some("Price"));
        assert_eq!(lost.first_won_time, Some(T0));
    }

    #[test]
    fn times_and_reasons_for_another_status_are_refused_naming_the_field() {
        let open = Closing::default();
        for (a, status, field) in [
            (
                ClosingAsked {
                    won_time: Some(T0),
                    ..asked()
                },
                DealStatus::Open,
                "won_time",
            ),
            (
                ClosingAsked {
                    lost_time: Some(T0),
                    ..asked()
                },
                DealStatus::Won,
                "lost_time",
            ),
            (
                ClosingAsked {
                    lost_reason: Some(Some("x".into())),
                    ..asked()
                },
                DealStatus::Won,
                "lost_reason",
            ),
            (
                ClosingAsked {
                    close_time: Some(T0),
                    ..asked()
                },
                DealStatus::Open,
                "close_time",
            ),
        ] {
            let e = closing_after((DealStatus::Open, &open), status, &a, NOW).unwrap_err();
            assert!(e.to_string().starts_with(field), "{e}");
        }
    }

    #[test]
    fn a_won_deal_keeps_its_times_when_only_its_close_time_moves() {
        let won = Closing {
            won_time: Some(T0),
            close_time: Some(T0),
            first_won_time: Some(T0),
            ..Closing::default()
        };
        let a = ClosingAsked {
            close_time: Some(NOW),
            ..asked()
        };
        let c = closing_after((DealStatus::Won, &won), DealStatus::Won, &a, NOW).unwrap();
        assert_eq!(c.won_time, Some(T0));
        assert_eq!(c.close_time, Some(NOW));
    }
}

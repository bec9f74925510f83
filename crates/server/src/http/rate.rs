//! Per-party rate limits (`[rate]` in the configuration): requests a second, and track reports
//! a second, each a GCRA bucket per party (`governor`'s keyed limiter). A party past either
//! gets `429` naming the limit, with `Retry-After`; other parties are not slowed by it, which
//! is the point: no party's load may delay another's alerts (docs/security.md).

use super::ApiError;
use axum::http::StatusCode;
use deconflict_store::PartyId;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use std::num::NonZeroU32;

/// The limits (`[rate]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateConfig {
    /// Authenticated requests a party may make a second, sustained.
    pub requests_per_s: u32,
    /// ... and in a burst.
    pub request_burst: u32,
    /// Track reports a party may post a second, sustained.
    pub reports_per_s: u32,
    /// ... and in a burst (at least `max_reports_per_request`, or a full batch never fits).
    pub report_burst: u32,
    /// Hotline copies a party may send a minute, sustained (a message to a coalition of ten
    /// is ten copies): a flood of messages must not crowd another party's stream.
    pub message_copies_per_min: u32,
    /// ... and in a burst (a message with more copies than this is never sent).
    pub message_copy_burst: u32,
}

impl Default for RateConfig {
    fn default() -> Self {
        RateConfig {
            requests_per_s: 200,
            request_burst: 1_000,
            reports_per_s: 20_000,
            report_burst: 100_000,
            message_copies_per_min: 120,
            message_copy_burst: 300,
        }
    }
}

impl RateConfig {
    /// Every limit is 1 to 10,000,000.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("requests_per_s", self.requests_per_s),
            ("request_burst", self.request_burst),
            ("reports_per_s", self.reports_per_s),
            ("report_burst", self.report_burst),
            ("message_copies_per_min", self.message_copies_per_min),
            ("message_copy_burst", self.message_copy_burst),
        ] {
            if !(1..=10_000_000).contains(&v) {
                return Err(format!("rate.{name} must be 1 to 10000000"));
            }
        }
        Ok(())
    }
}

fn quota(per_s: u32, burst: u32) -> Quota {
    let nz = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(nz(per_s)).allow_burst(nz(burst))
}

/// The buckets of every party.
pub struct RateLimits {
    config: RateConfig,
    requests: DefaultKeyedRateLimiter<PartyId>,
    reports: DefaultKeyedRateLimiter<PartyId>,
    messages: DefaultKeyedRateLimiter<PartyId>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RateLimits {
    pub fn new(config: &RateConfig) -> Self {
        RateLimits {
            config: config.clone(),
            requests: RateLimiter::keyed(quota(config.requests_per_s, config.request_burst)),
            reports: RateLimiter::keyed(quota(config.reports_per_s, config.report_burst)),
            messages: RateLimiter::keyed(
                Quota::per_minute(NonZeroU32::new(config.message_copies_per_min).unwrap_or(NonZeroU32::MIN))
                    .allow_burst(NonZeroU32::new(config.message_copy_burst).unwrap_or(NonZeroU32::MIN)),
            ),
        }
    }

    fn too_many(what: String, field: &str, wait_s: f64) -> ApiError {
        let secs = wait_s.ceil().max(1.0) as u64;
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, what, Some(field)).retry_after(secs)
    }

    /// One authenticated request of `party`.
    pub fn request(&self, party: PartyId) -> Result<(), ApiError> {
        self.requests.check_key(&party).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Self::too_many(
                format!(
                    "rate limit: at most {} requests a second (rate.requests_per_s); nothing done",
                    self.config.requests_per_s
                ),
                "rate_limit",
                wait.as_secs_f64(),
            )
        })
    }

    /// `n` track reports of `party`, all or none.
    pub fn reports(&self, party: PartyId, n: usize) -> Result<(), ApiError> {
        let Some(n) = u32::try_from(n).ok().and_then(NonZeroU32::new) else {
            return Ok(());
        };
        let limit = || {
            format!(
                "rate limit: at most {} track reports a second (rate.reports_per_s, bursts of rate.report_burst); nothing stored",
                self.config.reports_per_s
            )
        };
        match self.reports.check_key_n(&party, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(Self::too_many(limit(), "tracks", wait.as_secs_f64()))
            }
            // More than a whole burst: it never fits.
            Err(_) => Err(Self::too_many(limit(), "tracks", 1.0)),
        }
    }

    /// `copies` hotline copies of one message of `party`, all or none.
    pub fn messages(&self, party: PartyId, copies: usize) -> Result<(), ApiError> {
        let Some(n) = u32::try_from(copies).ok().and_then(NonZeroU32::new) else {
            return Ok(());
        };
        let limit = || {
            format!(
                "hotline rate limit: at most {} copies a minute (rate.message_copies_per_min, bursts of rate.message_copy_burst); nothing sent",
                self.config.message_copies_per_min
            )
        };
        match self.messages.check_key_n(&party, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(Self::too_many(limit(), "hotline_rate", wait.as_secs_f64()))
            }
            Err(_) => Err(Self::too_many(
                format!("{}: this message has more copies than a burst", limit()),
                "hotline_rate",
                60.0,
            )),
        }
    }

    /// Forgets buckets that are full again (call now and then: the map grows by party).
    pub fn shrink(&self) {
        self.requests.retain_recent();
        self.reports.retain_recent();
        self.messages.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_party_past_its_limit_does_not_touch_anothers() {
        let r = RateLimits::new(&RateConfig {
            requests_per_s: 1,
            request_burst: 3,
            reports_per_s: 10,
            report_burst: 20,
            message_copies_per_min: 1,
            message_copy_burst: 3,
        });
        for _ in 0..3 {
            assert!(r.request(PartyId(1)).is_ok());
        }
        let e = r.request(PartyId(1)).unwrap_err();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.field.as_deref(), Some("rate_limit"));
        assert!(r.request(PartyId(2)).is_ok());
        assert!(r.reports(PartyId(1), 20).is_ok());
        assert_eq!(
            r.reports(PartyId(1), 1).unwrap_err().field.as_deref(),
            Some("tracks")
        );
        assert!(r.reports(PartyId(2), 21).is_err(), "more than a burst never fits");
        assert!(r.reports(PartyId(2), 0).is_ok());
        assert!(r.messages(PartyId(1), 3).is_ok());
        assert_eq!(
            r.messages(PartyId(1), 1).unwrap_err().field.as_deref(),
            Some("hotline_rate")
        );
        assert!(r.messages(PartyId(2), 1).is_ok());
        assert!(
            r.messages(PartyId(2), 4).is_err(),
            "more copies than a burst never fit"
        );
    }
}

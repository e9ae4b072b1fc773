//! Promotion policies and their evidence gates.
//!
//! A policy sets how many approvals a promotion needs, which workspace roles may approve,
//! whether requesters may approve their own requests, which roles may move an alias
//! directly, and which evidence gates must pass. Gates are checked when a request is made
//! (the result is kept with the request) and again when an approval would move the alias.

use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::server::errors::ApiError;
use crate::tracking::RegistryVersion;
use crate::types::{Environment, GateResult, PolicyInfo, Role};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    pub required_approvals: u32,
    pub approver_roles: Vec<Role>,
    pub allow_self_approval: bool,
    pub direct_change_roles: Vec<Role>,
    pub metric_gates: Vec<MetricGate>,
    /// Refuse when the version's validation data drifts from its training data.
    pub require_no_drift: bool,
}

impl Policy {
    /// Converts the policy to the form pages show.
    pub fn info(&self) -> PolicyInfo {
        PolicyInfo {
            required_approvals: self.required_approvals,
            approver_roles: self.approver_roles.iter().map(|role| role.as_str().to_string()).collect(),
            allow_self_approval: self.allow_self_approval,
            direct_change_roles: self.direct_change_roles.iter().map(|role| role.as_str().to_string()).collect(),
            metric_gates: self.metric_gates.iter().map(MetricGate::to_string).collect(),
            require_no_drift: self.require_no_drift,
        }
    }
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            required_approvals: 1,
            approver_roles: vec![Role::Owner, Role::Admin],
            allow_self_approval: false,
            direct_change_roles: vec![Role::Owner, Role::Admin],
            metric_gates: Vec::new(),
            require_no_drift: false,
        }
    }
}

/// A metric of the version's source run compared with a threshold, such as `rmse < 0.8`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricGate {
    pub metric: String,
    /// One of `<`, `<=`, `>`, `>=`.
    pub op: String,
    pub threshold: f64,
}

impl MetricGate {
    /// Parses `rmse < 0.8`.
    pub fn parse(text: &str) -> Result<MetricGate, String> {
        let text = text.trim();
        for op in ["<=", ">=", "<", ">"] {
            if let Some((metric, threshold)) = text.split_once(op) {
                let metric = metric.trim();
                let threshold = threshold.trim();
                if metric.is_empty() {
                    return Err(format!("the gate \"{text}\" names no metric; write for example rmse < 0.8"));
                }
                let threshold: f64 = threshold.parse().map_err(|_| {
                    format!("the gate \"{text}\" has no numeric threshold; write for example {metric} {op} 0.8")
                })?;
                return Ok(MetricGate { metric: metric.to_string(), op: op.to_string(), threshold });
            }
        }
        Err(format!("the gate \"{text}\" has no comparison; write for example rmse < 0.8 or auc >= 0.9"))
    }

    pub fn passes(&self, value: f64) -> bool {
        match self.op.as_str() {
            "<" => value < self.threshold,
            "<=" => value <= self.threshold,
            ">" => value > self.threshold,
            ">=" => value >= self.threshold,
            _ => false,
        }
    }
}

impl std::fmt::Display for MetricGate {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} {} {}", self.metric, self.op, self.threshold)
    }
}

/// The result of one review.
#[derive(Clone, Debug, PartialEq)]
pub enum ReviewOutcome {
    NotFound,
    /// This reviewer had already decided; nothing changed.
    AlreadyReviewed { decision: String, status: String },
    /// The request was no longer pending.
    Closed { status: String },
    Rejected,
    Approved { approvals: i64, required: i64, alias_moved: bool },
}

/// Checks every gate of `policy` for `version` and returns each result.
pub async fn check_gates(
    db: &Db,
    workspace_id: i64,
    policy: &Policy,
    version: &RegistryVersion,
) -> Result<Vec<GateResult>, ApiError> {
    let mut results = Vec::new();
    if !policy.metric_gates.is_empty() {
        let run = if version.run_uuid.is_empty() { None } else { db.run(workspace_id, &version.run_uuid).await? };
        let metrics = match run {
            Some(run) => db.run_details(vec![run]).await?.pop().map(|detail| detail.metrics).unwrap_or_default(),
            None => Vec::new(),
        };
        for gate in &policy.metric_gates {
            let result = match metrics.iter().find(|point| point.key == gate.metric) {
                None if version.run_uuid.is_empty() => GateResult {
                    gate: gate.to_string(),
                    passed: false,
                    detail: "the version has no source run, so it has no metrics".into(),
                },
                None => GateResult {
                    gate: gate.to_string(),
                    passed: false,
                    detail: format!("the source run logged no metric \"{}\"", gate.metric),
                },
                Some(point) => GateResult {
                    gate: gate.to_string(),
                    passed: gate.passes(point.value),
                    detail: format!("the source run's {} is {}", gate.metric, point.value),
                },
            };
            results.push(result);
        }
    }
    if policy.require_no_drift {
        let drift = crate::monitoring::drift::environment_drift(
            db,
            workspace_id,
            &version.model_name,
            &version.version.to_string(),
            Environment::Training,
            Environment::Validation,
        )
        .await?;
        results.push(match drift {
            None => GateResult {
                gate: "no drift between validation and training data".into(),
                passed: false,
                detail: format!(
                    "no monitored model \"{}\" version {} with both training and validation data; upload both to check drift",
                    version.model_name, version.version
                ),
            },
            Some(drift) => GateResult {
                gate: "no drift between validation and training data".into(),
                passed: !drift.dataset_drift(),
                detail: if drift.drifted.is_empty() {
                    format!("none of {} compared columns drifted", drift.compared)
                } else {
                    format!("{} of {} columns drifted: {}", drift.drifted.len(), drift.compared, drift.drifted.join(", "))
                },
            },
        });
    }
    Ok(results)
}

/// Explains why `role` (and the requester check) may not approve, or `None` when allowed.
pub fn approval_refusal(policy: &Policy, role: Role, is_requester: bool) -> Option<String> {
    if !policy.approver_roles.contains(&role) {
        let roles: Vec<&str> = policy.approver_roles.iter().map(|role| role.as_str()).collect();
        return Some(format!(
            "your role is {}; this model's policy lets only {} approve promotions",
            role.as_str(),
            roles.join(" or ")
        ));
    }
    if is_requester && !policy.allow_self_approval {
        return Some("you made this request, and the policy does not allow approving your own request; ask another approver".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gates_and_compares() {
        let gate = MetricGate::parse("rmse < 0.8").unwrap();
        assert_eq!(gate, MetricGate { metric: "rmse".into(), op: "<".into(), threshold: 0.8 });
        assert!(gate.passes(0.79) && !gate.passes(0.8));
        assert!(MetricGate::parse("auc >= 0.9").unwrap().passes(0.9));
        assert!(MetricGate::parse("rmse").unwrap_err().contains("no comparison"));
        assert!(MetricGate::parse("rmse < low").unwrap_err().contains("numeric threshold"));
    }

    #[test]
    fn requesters_cannot_approve_their_own_requests_by_default() {
        let policy = Policy::default();
        assert!(approval_refusal(&policy, Role::Admin, true).unwrap().contains("your own request"));
        assert!(approval_refusal(&policy, Role::Member, false).unwrap().contains("owner or admin"));
        assert_eq!(approval_refusal(&policy, Role::Owner, false), None);
    }
}

//! The deployment configuration as ECS takes it (UpdateService/CreateService
//! `deploymentConfiguration`): rolling limits, circuit breaker, alarms, and the strategy with its
//! bake times, linear or canary steps and lifecycle hooks; and its drift. Pure: no client.

use std::collections::HashMap;

use aws_sdk_ecs::types as ecs;
use aws_smithy_types::{Document, Number};

use super::drift::{differs_if_both, sorted};
use super::{build_error, non_empty};
use crate::Result;
use crate::api::service::{
    DeploymentAlarms, DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentLifecycleHook,
};

/// `deploymentConfiguration` of CreateService/UpdateService. The strategy is sent explicitly
/// (ROLLING when unset), so that removing it from the spec goes back to ROLLING.
pub(crate) fn deployment_configuration(
    d: &DeploymentConfiguration,
) -> Result<ecs::DeploymentConfiguration> {
    let alarms = d
        .alarms
        .as_ref()
        .map(|a| {
            ecs::DeploymentAlarms::builder()
                .set_alarm_names(Some(a.alarm_names.clone()))
                .enable(a.enable)
                .rollback(a.rollback)
                .build()
        })
        .transpose()
        .map_err(build_error("deploymentConfiguration.alarms"))?;
    let hooks = d
        .lifecycle_hooks
        .iter()
        .map(lifecycle_hook)
        .collect::<Vec<_>>();
    Ok(ecs::DeploymentConfiguration::builder()
        .set_maximum_percent(d.maximum_percent)
        .set_minimum_healthy_percent(d.minimum_healthy_percent)
        .set_deployment_circuit_breaker(d.deployment_circuit_breaker.as_ref().map(|c| {
            ecs::DeploymentCircuitBreaker::builder()
                .enable(c.enable)
                .rollback(c.rollback)
                .build()
        }))
        .set_alarms(alarms)
        .strategy(d.strategy().into())
        .set_bake_time_in_minutes(d.bake_time_in_minutes)
        .set_linear_configuration(d.linear_configuration.as_ref().map(|l| {
            ecs::LinearConfiguration::builder()
                .set_step_percent(l.step_percent)
                .set_step_bake_time_in_minutes(l.step_bake_time_in_minutes)
                .build()
        }))
        .set_canary_configuration(d.canary_configuration.as_ref().map(|c| {
            ecs::CanaryConfiguration::builder()
                .set_canary_percent(c.canary_percent)
                .set_canary_bake_time_in_minutes(c.canary_bake_time_in_minutes)
                .build()
        }))
        .set_lifecycle_hooks(non_empty(hooks))
        .build())
}

fn lifecycle_hook(h: &DeploymentLifecycleHook) -> ecs::DeploymentLifecycleHook {
    ecs::DeploymentLifecycleHook::builder()
        .set_target_type(h.target_type.as_deref().map(Into::into))
        .set_hook_target_arn(h.hook_target_arn.clone())
        .set_role_arn(h.role_arn.clone())
        .set_lifecycle_stages(Some(
            h.lifecycle_stages
                .iter()
                .map(|s| s.as_str().into())
                .collect(),
        ))
        .set_hook_details(h.hook_details.as_ref().map(document))
        .set_timeout_configuration(h.timeout_configuration.as_ref().map(|t| {
            ecs::DeploymentLifecycleHookTimeoutConfiguration::builder()
                .set_timeout_in_minutes(t.timeout_in_minutes)
                .set_action(t.action.as_deref().map(Into::into))
                .build()
        }))
        .build()
}

/// JSON as a Smithy document (`hookDetails` is a free-form document in the ECS API).
pub(crate) fn document(value: &serde_json::Value) -> Document {
    use serde_json::Value;
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(if let Some(u) = n.as_u64() {
            Number::PosInt(u)
        } else if let Some(i) = n.as_i64() {
            Number::NegInt(i)
        } else {
            Number::Float(n.as_f64().unwrap_or_default())
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(document).collect()),
        Value::Object(map) => Document::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), document(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// Whether the deployment configuration ECS reports differs from the spec's, in the fields the
/// spec sets (ECS fills in defaults for the others). The strategy compares as ROLLING when
/// unset; lifecycle hooks compare by kind, target, role, stages and any timeout the spec sets
/// (`hookDetails` is the Lambda function's business, not compared).
pub(super) fn deployment_configuration_drift(
    spec: Option<&DeploymentConfiguration>,
    current: Option<&ecs::DeploymentConfiguration>,
) -> bool {
    let (Some(want), Some(cur)) = (spec, current) else {
        return false;
    };
    let circuit_breaker = |a: &DeploymentCircuitBreaker| (a.enable, a.rollback);
    let alarms =
        |a: &DeploymentAlarms| (a.enable, a.rollback, sorted(a.alarm_names.iter().cloned()));
    let linear = |w: Option<f64>, c: Option<f64>| differs_if_both(w, c);
    differs_if_both(want.maximum_percent, cur.maximum_percent)
        || differs_if_both(want.minimum_healthy_percent, cur.minimum_healthy_percent)
        || differs_if_both(
            want.deployment_circuit_breaker
                .as_ref()
                .map(circuit_breaker),
            cur.deployment_circuit_breaker
                .as_ref()
                .map(|b| (b.enable, b.rollback)),
        )
        || differs_if_both(
            want.alarms.as_ref().map(alarms),
            cur.alarms
                .as_ref()
                .map(|a| (a.enable, a.rollback, sorted(a.alarm_names.iter().cloned()))),
        )
        || differs_if_both(Some(want.strategy()), cur.strategy().map(|s| s.as_str()))
        || differs_if_both(want.bake_time_in_minutes, cur.bake_time_in_minutes)
        || want.linear_configuration.as_ref().is_some_and(|w| {
            cur.linear_configuration().is_some_and(|c| {
                linear(w.step_percent, c.step_percent)
                    || differs_if_both(w.step_bake_time_in_minutes, c.step_bake_time_in_minutes)
            })
        })
        || want.canary_configuration.as_ref().is_some_and(|w| {
            cur.canary_configuration().is_some_and(|c| {
                linear(w.canary_percent, c.canary_percent)
                    || differs_if_both(w.canary_bake_time_in_minutes, c.canary_bake_time_in_minutes)
            })
        })
        || hooks_drift(&want.lifecycle_hooks, cur.lifecycle_hooks.as_deref())
}

fn hooks_drift(
    want: &[DeploymentLifecycleHook],
    current: Option<&[ecs::DeploymentLifecycleHook]>,
) -> bool {
    let Some(current) = current else {
        // ECS omits an empty list.
        return !want.is_empty();
    };
    want.len() != current.len()
        || want.iter().zip(current).any(|(w, c)| {
            let kind = |t: Option<&str>| t.unwrap_or("AWS_LAMBDA").to_owned();
            kind(w.target_type.as_deref()) != kind(c.target_type().map(|t| t.as_str()))
                || w.hook_target_arn.as_deref() != c.hook_target_arn()
                || w.role_arn.as_deref() != c.role_arn()
                || sorted(w.lifecycle_stages.iter().map(|s| s.as_str().to_owned()))
                    != sorted(c.lifecycle_stages().iter().map(|s| s.as_str().to_owned()))
                || w.timeout_configuration.as_ref().is_some_and(|t| {
                    let cur = c.timeout_configuration();
                    differs_if_both(t.timeout_in_minutes, cur.and_then(|c| c.timeout_in_minutes))
                        || differs_if_both(
                            t.action.as_deref(),
                            cur.and_then(|c| c.action()).map(|a| a.as_str()),
                        )
                })
        })
}

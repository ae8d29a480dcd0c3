//! `kubectl ecs approve` and `kubectl ecs rollback`: the annotations the operator acts on once
//! (`ecs.operator.dev/approve=<hookId>`, `ecs.operator.dev/rollback=<service deployment ID>`),
//! with the value read from the service's status, so nobody copies IDs by hand. A team that
//! approves from Git commits the same annotation instead.

use kube::api::{Patch, PatchParams};
use kube::{Api, Client};

use super::service_named;
use crate::api::EcsService;
use crate::api::service::EcsServiceStatus;
use crate::mapping::service::deployment::{APPROVE_ANNOTATION, ROLLBACK_ANNOTATION, deployment_id};

/// Approves the hook the service's deployment waits at.
pub async fn approve(client: &Client, namespace: &str, name: &str) -> Result<(), String> {
    let service = service_named(client, namespace, name).await?;
    let (hook, deployment) = hook_to_approve(name, service.status.as_ref())?;
    annotate(client, namespace, name, APPROVE_ANNOTATION, &hook).await?;
    crate::outln!(
        "ecsservice.ecs.operator.dev/{name} approved: service deployment {deployment} continues ({APPROVE_ANNOTATION}={hook})"
    );
    Ok(())
}

/// Rolls back the service's deployment in progress.
pub async fn rollback(client: &Client, namespace: &str, name: &str) -> Result<(), String> {
    let service = service_named(client, namespace, name).await?;
    let deployment = deployment_to_roll_back(name, service.status.as_ref())?;
    annotate(client, namespace, name, ROLLBACK_ANNOTATION, &deployment).await?;
    crate::outln!(
        "ecsservice.ecs.operator.dev/{name} rollback requested for service deployment {deployment} ({ROLLBACK_ANNOTATION}={deployment})"
    );
    Ok(())
}

/// (hook ID, deployment ID) of the hook awaiting approval.
fn hook_to_approve(
    name: &str,
    status: Option<&EcsServiceStatus>,
) -> Result<(String, String), String> {
    status
        .and_then(|s| s.service_deployment.as_ref())
        .and_then(|sd| {
            let hook = sd.pending_hook.as_ref()?;
            Some((hook.hook_id.clone(), deployment_id(&sd.arn).to_owned()))
        })
        .ok_or_else(|| format!("EcsService {name} has no deployment awaiting approval"))
}

/// The ID of the service deployment that has not ended.
fn deployment_to_roll_back(
    name: &str,
    status: Option<&EcsServiceStatus>,
) -> Result<String, String> {
    status
        .and_then(|s| s.service_deployment.as_ref())
        .filter(|sd| matches!(sd.status.as_deref(), Some("PENDING" | "IN_PROGRESS")))
        .map(|sd| deployment_id(&sd.arn).to_owned())
        .ok_or_else(|| {
            format!("EcsService {name} has no service deployment in progress to roll back")
        })
}

/// Sets annotation `key` to `value` on the EcsService (a merge patch: nothing else changes).
pub async fn annotate(
    client: &Client,
    namespace: &str,
    name: &str,
    key: &str,
    value: &str,
) -> Result<(), String> {
    let patch = serde_json::json!({"metadata": {"annotations": {key: value}}});
    Api::<EcsService>::namespaced(client.clone(), namespace)
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(|_| ())
        .map_err(|e| match e {
            kube::Error::Api(status) if status.code == 404 => {
                format!("EcsService {namespace}/{name} not found")
            }
            other => format!(
                "annotating EcsService {namespace}/{name}: {}",
                crate::cli::kube_message(&other)
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::service::{CurrentServiceDeployment, PendingHook};

    const ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service-deployment/apps/web/Abc123";

    fn status(state: &str, hook: Option<&str>) -> EcsServiceStatus {
        EcsServiceStatus {
            service_deployment: Some(CurrentServiceDeployment {
                arn: ARN.into(),
                status: Some(state.into()),
                pending_hook: hook.map(|h| PendingHook {
                    hook_id: h.into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn approve_names_the_pending_hook_and_rollback_the_deployment() {
        let paused = status("IN_PROGRESS", Some("hook-1"));
        assert_eq!(
            hook_to_approve("web", Some(&paused)),
            Ok(("hook-1".into(), "Abc123".into()))
        );
        assert_eq!(
            deployment_to_roll_back("web", Some(&paused)),
            Ok("Abc123".into())
        );
    }

    #[test]
    fn nothing_to_approve_or_roll_back_is_an_error_that_says_so() {
        let running = status("IN_PROGRESS", None);
        assert_eq!(
            hook_to_approve("web", Some(&running)),
            Err("EcsService web has no deployment awaiting approval".into())
        );
        let done = status("SUCCESSFUL", None);
        assert_eq!(
            deployment_to_roll_back("web", Some(&done)),
            Err("EcsService web has no service deployment in progress to roll back".into())
        );
        assert!(hook_to_approve("web", None).is_err());
    }
}

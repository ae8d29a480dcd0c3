//! Application Auto Scaling of ECS services (EcsService `spec.autoscaling`): one client per
//! region, the read of a service's scalable target, policies and scheduled actions, and the
//! calls of a [`Plan`]. Calls go through [`Ecs::call`] (counted, classified, failing fast while
//! the region does not answer); they are not in ECS's token buckets, so they are not paced.

use aws_sdk_applicationautoscaling::Client;

use super::Ecs;
use crate::mapping::autoscaling::{Current, DIMENSION, NAMESPACE, Plan};
use crate::{Error, Result};

impl Ecs {
    /// The Application Auto Scaling client of a region (endpoint from
    /// `AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING` or `AWS_ENDPOINT_URL`, as for ECS).
    pub fn autoscaling(&self, region: &str) -> Client {
        let mut clients = self
            .inner
            .autoscalers
            .lock()
            .expect("client cache poisoned");
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let config =
                    aws_sdk_applicationautoscaling::config::Builder::from(&self.inner.base)
                        .region(aws_config::Region::new(region.to_string()))
                        .build();
                Client::from_conf(config)
            })
            .clone()
    }

    /// What Application Auto Scaling has for `resource_id` (`service/<cluster>/<service>`):
    /// DescribeScalableTargets, then (with a target) DescribeScalingPolicies and
    /// DescribeScheduledActions (every page) of that target.
    pub async fn read_autoscaling(&self, region: &str, resource_id: &str) -> Result<Current> {
        let client = self.autoscaling(region);
        let targets = self
            .call(
                region,
                "DescribeScalableTargets",
                client
                    .describe_scalable_targets()
                    .service_namespace(NAMESPACE)
                    .scalable_dimension(DIMENSION)
                    .resource_ids(resource_id)
                    .send(),
            )
            .await?;
        let Some(target) = targets
            .scalable_targets()
            .iter()
            .find(|t| t.resource_id() == resource_id)
            .cloned()
        else {
            return Ok(Current::default());
        };
        let mut current = Current {
            target: Some(target),
            ..Current::default()
        };
        // A target has at most 50 policies (quota, not adjustable): one page of 50 holds them.
        let policies = self
            .call(
                region,
                "DescribeScalingPolicies",
                client
                    .describe_scaling_policies()
                    .service_namespace(NAMESPACE)
                    .scalable_dimension(DIMENSION)
                    .resource_id(resource_id)
                    .max_results(50)
                    .send(),
            )
            .await?;
        current.policies = policies
            .scaling_policies()
            .iter()
            .filter(|p| p.resource_id() == resource_id)
            .cloned()
            .collect();
        let mut token = None;
        loop {
            let page = self
                .call(
                    region,
                    "DescribeScheduledActions",
                    client
                        .describe_scheduled_actions()
                        .service_namespace(NAMESPACE)
                        .scalable_dimension(DIMENSION)
                        .resource_id(resource_id)
                        .set_next_token(token.take())
                        .send(),
                )
                .await?;
            current.scheduled_actions.extend(
                page.scheduled_actions()
                    .iter()
                    .filter(|a| a.resource_id() == resource_id)
                    .cloned(),
            );
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(current)
    }

    /// Makes the calls of `plan` in its order. A policy or scheduled action already gone counts
    /// as deleted; a target already gone as deregistered.
    pub async fn apply_autoscaling(
        &self,
        region: &str,
        resource_id: &str,
        plan: Plan,
    ) -> Result<()> {
        let client = self.autoscaling(region);
        if plan.deregister {
            return self.deregister_scalable_target(region, resource_id).await;
        }
        if let Some(register) = plan.register {
            self.call(
                region,
                "RegisterScalableTarget",
                register.send_with(&client),
            )
            .await?;
        }
        for name in plan.delete_policies {
            let request = client
                .delete_scaling_policy()
                .policy_name(name)
                .service_namespace(NAMESPACE)
                .scalable_dimension(DIMENSION)
                .resource_id(resource_id)
                .send();
            gone_is_done(self.call(region, "DeleteScalingPolicy", request).await)?;
        }
        for put in plan.put_policies {
            self.call(region, "PutScalingPolicy", put.send_with(&client))
                .await?;
        }
        for name in plan.delete_scheduled_actions {
            let request = client
                .delete_scheduled_action()
                .scheduled_action_name(name)
                .service_namespace(NAMESPACE)
                .scalable_dimension(DIMENSION)
                .resource_id(resource_id)
                .send();
            gone_is_done(self.call(region, "DeleteScheduledAction", request).await)?;
        }
        for put in plan.put_scheduled_actions {
            self.call(region, "PutScheduledAction", put.send_with(&client))
                .await?;
        }
        Ok(())
    }

    /// DeregisterScalableTarget of a service's target (its policies and scheduled actions go
    /// with it); a target that is not registered is done.
    pub async fn deregister_scalable_target(&self, region: &str, resource_id: &str) -> Result<()> {
        let client = self.autoscaling(region);
        let request = client
            .deregister_scalable_target()
            .service_namespace(NAMESPACE)
            .scalable_dimension(DIMENSION)
            .resource_id(resource_id)
            .send();
        gone_is_done(self.call(region, "DeregisterScalableTarget", request).await)
    }
}

/// Application Auto Scaling answers a delete of what does not exist with
/// ObjectNotFoundException (or, moto, a ValidationException "No scalable target found ..."/"No
/// scaling policy found ..."): done.
fn gone_is_done<T>(result: Result<T>) -> Result<()> {
    match result {
        Ok(_) => Ok(()),
        Err(Error::Ecs { code, message, .. })
            if code == "ObjectNotFoundException" || message.starts_with("No scal") =>
        {
            Ok(())
        }
        Err(error) => Err(error),
    }
}

//! DescribeCapacityProviders for one provider, shared by the EcsCapacityProvider controller and
//! `ecs-operator diff`.

use aws_sdk_ecs::types as ecs;

use super::Ecs;
use crate::{Error, Result};

impl Ecs {
    /// The capacity provider `name` as ECS describes it, with its tags; None when ECS does not
    /// have it, reports it INACTIVE (deleted), or (for a Managed Instances provider, named with
    /// its `cluster`) the cluster is gone, and its providers with it.
    pub async fn describe_capacity_provider(
        &self,
        region: &str,
        name: &str,
        cluster: Option<&str>,
    ) -> Result<Option<ecs::CapacityProvider>> {
        let request = self
            .client(region)
            .describe_capacity_providers()
            .capacity_providers(name)
            .set_cluster(cluster.map(Into::into))
            .include(ecs::CapacityProviderField::Tags)
            .send();
        let output = match self
            .call(region, "DescribeCapacityProviders", request)
            .await
        {
            Ok(output) => output,
            Err(Error::Ecs { code, .. })
                if cluster.is_some() && code == "ClusterNotFoundException" =>
            {
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        Ok(output
            .capacity_providers
            .unwrap_or_default()
            .into_iter()
            .find(|p| {
                p.name() == Some(name) && p.status() != Some(&ecs::CapacityProviderStatus::Inactive)
            }))
    }
}

//! `ecs-operator import`: existing ECS clusters, their services and the task definitions those
//! run, written as manifests for Git (see [`crate::mapping::import`] for what a manifest keeps).
//! Read-only: ListClusters, DescribeClusters, ListServices, DescribeServices and
//! DescribeTaskDefinition.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::types::{ClusterField, ServiceField};
use clap::Args;
use serde_json::Value;

use crate::api::{EcsCluster, EcsService, EcsTaskDefinition, ServiceAutoscaling};
use crate::ecs::Ecs;
use crate::ecs::raw::RawJson;
use crate::mapping::autoscaling;
use crate::mapping::import::{self, Names, Target};
use crate::runtime::metrics::Metrics;

/// `ecs-operator import` flags.
#[derive(Clone, Debug, Args)]
pub struct ImportArgs {
    /// ECS clusters to import (repeat); every cluster of the region when omitted.
    #[arg(long = "cluster")]
    pub clusters: Vec<String>,

    /// Namespace of the objects written.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,

    /// AWS region (else the AWS_REGION / profile default).
    #[arg(long, env = "ECS_OPERATOR_REGION")]
    pub region: Option<String>,

    /// Write one file per object into this folder instead of one stream to stdout.
    #[arg(short = 'o', long)]
    pub output_dir: Option<PathBuf>,
}

/// Imports and writes the manifests; notes (what was left as is, and why) go to stderr.
pub async fn run(args: ImportArgs) -> Result<(), String> {
    let aws = crate::operator::aws_config(None).await;
    let ecs = Ecs::new(aws, Arc::new(Metrics::default()), Duration::from_secs(600));
    let region = ecs.region(args.region.as_deref(), None);
    let target = Target {
        namespace: &args.namespace,
        region: Some(&region),
    };
    let manifests = Importer {
        ecs: &ecs,
        region: &region,
    }
    .manifests(&args.clusters, &target)
    .await?;
    match &args.output_dir {
        None => {
            for manifest in &manifests {
                crate::outln!("---\n{}", yaml(manifest)?.trim_end());
            }
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for manifest in &manifests {
                let file = dir.join(format!(
                    "{}-{}.yaml",
                    manifest["kind"].as_str().unwrap_or_default().to_lowercase(),
                    manifest["metadata"]["name"].as_str().unwrap_or_default()
                ));
                std::fs::write(&file, yaml(manifest)?)
                    .map_err(|e| format!("{}: {e}", file.display()))?;
            }
            eprintln!("wrote {} manifests to {}", manifests.len(), dir.display());
        }
    }
    Ok(())
}

fn yaml(manifest: &Value) -> Result<String, String> {
    serde_yaml::to_string(manifest).map_err(crate::cli::one_shot)
}

struct Importer<'a> {
    ecs: &'a Ecs,
    region: &'a str,
}

impl Importer<'_> {
    /// Clusters, then the task definitions their services run, then the services.
    async fn manifests(&self, only: &[String], target: &Target<'_>) -> Result<Vec<Value>, String> {
        let clusters = self.clusters(only).await?;
        let (mut cluster_manifests, mut definition_manifests, mut service_manifests) =
            (Vec::new(), Vec::new(), Vec::new());
        // family -> (revision, object name) of the revision its manifest comes from.
        let mut families: BTreeMap<String, (i64, String)> = BTreeMap::new();
        let mut described: BTreeMap<String, Value> = BTreeMap::new();
        let (mut cluster_names, mut family_names, mut service_names) =
            (Names::default(), Names::default(), Names::default());
        if clusters.is_empty() {
            eprintln!("note: ECS has no ACTIVE clusters in {}", self.region);
        }
        for cluster in &clusters {
            let cluster_name = cluster["clusterName"].as_str().unwrap_or_default();
            let cluster_object = cluster_names.claim(cluster_name);
            let spec = import::cluster_spec(cluster).map_err(crate::cli::one_shot)?;
            cluster_manifests.push(
                import::manifest::<EcsCluster>(&cluster_object, target, spec)
                    .map_err(crate::cli::one_shot)?,
            );
            for service in self.services(cluster_name).await? {
                let arn = service["taskDefinition"].as_str().unwrap_or_default();
                if !described.contains_key(arn) {
                    let definition = self
                        .ecs
                        .describe_task_definition_json(self.region, arn)
                        .await
                        .map_err(crate::cli::one_shot)?;
                    described.insert(arn.to_string(), definition);
                }
                let definition = &described[arn];
                let family = definition["taskDefinition"]["family"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let revision = definition["taskDefinition"]["revision"]
                    .as_i64()
                    .unwrap_or(0);
                // Several services on one family: its manifest follows the newest revision
                // they run; the others roll to it once applied.
                let object = match families.get(&family) {
                    Some((_, object)) => object.clone(),
                    None => family_names.claim(&family),
                };
                if families.get(&family).is_none_or(|(r, _)| *r < revision) {
                    families.insert(family.clone(), (revision, object.clone()));
                }
                let service_name = service["serviceName"].as_str().unwrap_or_default();
                if definition["taskDefinition"]["status"] == "INACTIVE" {
                    eprintln!(
                        "note: service {service_name} of cluster {cluster_name} runs {family}:{revision}, which is \
                         deregistered; once applied, a new revision is registered from it and the \
                         service rolls to it"
                    );
                }
                let name = service_names.claim(service_name);
                let mut spec = import::service_spec(
                    &service,
                    &cluster["defaultCapacityProviderStrategy"],
                    &cluster_object,
                    &object,
                )
                .map_err(crate::cli::one_shot)?;
                spec.autoscaling = self.autoscaling(cluster_name, service_name).await;
                service_manifests.push((
                    import::manifest::<EcsService>(&name, target, spec)
                        .map_err(crate::cli::one_shot)?,
                    family,
                    revision,
                    cluster_name.to_string(),
                ));
            }
        }
        for (family, (revision, object)) in &families {
            let definition = described
                .values()
                .find(|d| {
                    d["taskDefinition"]["family"] == family.as_str()
                        && d["taskDefinition"]["revision"] == *revision
                })
                .expect("every family comes from a described revision");
            let spec = import::task_definition_spec(definition).map_err(crate::cli::one_shot)?;
            definition_manifests.push(
                import::manifest::<EcsTaskDefinition>(object, target, spec)
                    .map_err(crate::cli::one_shot)?,
            );
        }
        let services = service_manifests
            .into_iter()
            .map(|(manifest, family, revision, cluster)| {
                let newest = families[&family].0;
                if revision != newest {
                    eprintln!(
                        "note: service {} of cluster {cluster} runs {family}:{revision}; its task \
                         definition's manifest is {family}:{newest}, which it rolls out once applied",
                        manifest["spec"]["serviceName"].as_str().unwrap_or_default()
                    );
                }
                manifest
            });
        cluster_manifests.extend(definition_manifests);
        cluster_manifests.extend(services);
        Ok(cluster_manifests)
    }

    /// The ACTIVE clusters named (or all), as DescribeClusters' JSON.
    async fn clusters(&self, only: &[String]) -> Result<Vec<Value>, String> {
        let client = self.ecs.client(self.region);
        let names: Vec<String> = if only.is_empty() {
            client
                .list_clusters()
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| crate::ecs::sentence("ListClusters", e))?
        } else {
            only.to_vec()
        };
        let mut clusters = Vec::new();
        for chunk in names.chunks(100) {
            let raw = RawJson::default();
            let request = client
                .describe_clusters()
                .set_clusters(Some(chunk.to_vec()))
                .include(ClusterField::Settings)
                .include(ClusterField::Configurations)
                .include(ClusterField::Tags)
                .customize()
                .config_override(aws_sdk_ecs::config::Builder::default().interceptor(raw.clone()))
                .send();
            self.ecs
                .call(self.region, "DescribeClusters", request)
                .await
                .map_err(crate::cli::one_shot)?;
            let answer = raw.json().unwrap_or_default();
            clusters.extend(
                answer["clusters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|c| c["status"] == "ACTIVE")
                    .cloned(),
            );
            if let Some(failure) = answer["failures"].as_array().and_then(|f| f.first()) {
                let arn = failure["arn"].as_str().unwrap_or_default();
                return Err(format!(
                    "ECS has no cluster {} in {} ({})",
                    arn.rsplit('/').next().unwrap_or(arn),
                    self.region,
                    failure["reason"].as_str().unwrap_or_default()
                ));
            }
        }
        Ok(clusters)
    }

    /// The cluster's ACTIVE services, as DescribeServices' JSON (10 per call, with tags).
    /// The service's scaling by Application Auto Scaling as `spec.autoscaling`: None without a
    /// scalable target, or (noted) when Application Auto Scaling cannot be read. What the spec
    /// cannot hold is noted.
    async fn autoscaling(&self, cluster: &str, service: &str) -> Option<ServiceAutoscaling> {
        let resource_id = autoscaling::resource_id(cluster, service);
        match self.ecs.read_autoscaling(self.region, &resource_id).await {
            Ok(current) => {
                let (spec, left_out) = autoscaling::spec_of(&current);
                for what in left_out {
                    eprintln!(
                        "note: service {service} of cluster {cluster}: {what} is left out of \
                         spec.autoscaling, which cannot hold it"
                    );
                }
                spec
            }
            Err(error) => {
                eprintln!(
                    "note: service {service} of cluster {cluster}: spec.autoscaling is left out: {}",
                    crate::cli::one_shot(error)
                );
                None
            }
        }
    }

    async fn services(&self, cluster: &str) -> Result<Vec<Value>, String> {
        let client = self.ecs.client(self.region);
        let arns: Vec<String> = client
            .list_services()
            .cluster(cluster)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| crate::ecs::sentence("ListServices", e))?;
        let mut services = Vec::new();
        for chunk in arns.chunks(10) {
            let raw = RawJson::default();
            let request = client
                .describe_services()
                .cluster(cluster)
                .set_services(Some(chunk.to_vec()))
                .include(ServiceField::Tags)
                .customize()
                .config_override(aws_sdk_ecs::config::Builder::default().interceptor(raw.clone()))
                .send();
            self.ecs
                .call(self.region, "DescribeServices", request)
                .await
                .map_err(crate::cli::one_shot)?;
            let answer = raw.json().unwrap_or_default();
            services.extend(
                answer["services"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|s| s["status"] == "ACTIVE")
                    .cloned(),
            );
        }
        Ok(services)
    }
}

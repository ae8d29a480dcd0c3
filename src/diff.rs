//! `ecs-operator diff -f FILE`: what the operator would do in ECS for these manifests, from
//! read-only ECS calls, through the same pure planning the controllers apply
//! ([`crate::mapping::service::plan`], [`crate::mapping::task_definition::plan`],
//! [`crate::mapping::cluster::drift`], [`crate::mapping::capacity_provider::drift`]), so the diff
//! and the operator cannot disagree.
//!
//! References between objects (clusterRef, taskDefinitionRef, capacityProviderRefs) resolve to objects of the same
//! files first, then to objects in the Kubernetes cluster (read-only, when a kubeconfig works).
//! Exit code as `kubectl diff`: 0 nothing would change, 1 something would, 2 an object could not
//! be compared.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::types::{TaskDefinitionField, TaskDefinitionStatus};
use clap::Args;
use kube::{Resource, ResourceExt};
use serde_json::Value;

use crate::api::{
    ADOPT_ANNOTATION, CLUSTER_ID_TAG, EcsCapacityProvider, EcsCluster, EcsService,
    EcsServiceStatus, EcsTaskDefinition, OWNER_TAG, SPEC_HASH_TAG, UID_TAG,
};
use crate::ecs::Ecs;
use crate::ecs::revisions::family_of;
use crate::mapping::service::plan as service_plan;
use crate::mapping::tags::{self, Ownership};
use crate::mapping::task_definition::{self as task_definition_mapping, plan as revision_plan};
use crate::mapping::{
    autoscaling, capacity_provider as provider_mapping, cluster as cluster_mapping,
    service as service_mapping,
};
use crate::runtime::metrics::Metrics;

/// `ecs-operator diff` flags.
#[derive(Clone, Debug, Args)]
pub struct DiffArgs {
    /// Manifests to compare: a file (YAML or JSON, several documents), a folder of them, or
    /// `-` for stdin. Repeat for more.
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,

    /// Namespace of objects that name none.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,

    /// AWS region of objects that set none (else the AWS_REGION / profile default).
    #[arg(long, env = "ECS_OPERATOR_REGION")]
    pub region: Option<String>,
}

/// What the operator would do for one object.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Nothing: ECS matches the spec.
    NoChange(String),
    /// These calls, as sentences.
    Changes(Vec<String>),
    /// The operator would refuse (an ownership conflict, an invalid spec): it writes nothing.
    Refused(String),
    /// Could not compare (ECS unreachable, a reference not found, a kind this operator has
    /// not).
    Failed(String),
    /// Not planned by diff (an EcsTask runs once, when created; schedules are not compared yet).
    Skipped(String),
}

/// Runs the diff and prints it; the exit code as `kubectl diff`.
pub async fn run(args: DiffArgs) -> Result<u8, String> {
    let mut documents = Vec::new();
    for path in &args.files {
        for file in files_of(path)? {
            documents.extend(read_documents(&file)?);
        }
    }
    let objects = Objects::parse(documents, &args.namespace)?;
    let aws = crate::operator::aws_config(None).await;
    let ecs = Ecs::new(aws, Arc::new(Metrics::default()), Duration::from_secs(600));
    let kube = kube::Client::try_default().await.ok();
    let differ = Differ {
        ecs,
        kube,
        objects: &objects,
        default_region: args.region.clone(),
    };
    let mut code = 0;
    let skipped = objects.skipped.iter().cloned();
    for (label, outcome) in differ.all().await.into_iter().chain(skipped) {
        let (text, outcome_code) = match outcome {
            Outcome::NoChange(why) => (format!("no change ({why})"), 0),
            Outcome::Changes(lines) => (lines.join("\n    "), 1),
            Outcome::Refused(why) => (format!("refused: {why}"), 1),
            Outcome::Failed(why) => (format!("could not compare: {why}"), 2),
            Outcome::Skipped(why) => (format!("skipped ({why})"), 0),
        };
        crate::outln!("{label}: {text}");
        code = code.max(outcome_code);
    }
    Ok(code)
}

/// `path` itself, or for a folder its `.yaml`, `.yml` and `.json` files in name order (as
/// `kubectl apply -f DIR` reads them).
fn files_of(path: &PathBuf) -> Result<Vec<PathBuf>, String> {
    if !path.is_dir() {
        return Ok(vec![path.clone()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The YAML (or JSON) documents of a file, or of stdin for `-`; a `List` counts as its items.
fn read_documents(file: &PathBuf) -> Result<Vec<Value>, String> {
    let text = if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("stdin: {e}"))?;
        text
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?
    };
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(&text) {
        let value: Value = serde::Deserialize::deserialize(document)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        match value {
            Value::Null => {}
            Value::Object(ref fields) if fields.get("kind") == Some(&"List".into()) => {
                let items = fields.get("items").and_then(Value::as_array);
                documents.extend(items.into_iter().flatten().cloned());
            }
            value => documents.push(value),
        }
    }
    Ok(documents)
}

/// The ECS objects of the manifests, in the order they were given; other kinds are skipped.
#[derive(Default)]
struct Objects {
    providers: Vec<EcsCapacityProvider>,
    clusters: Vec<EcsCluster>,
    definitions: Vec<EcsTaskDefinition>,
    services: Vec<EcsService>,
    /// Objects of this operator's group diff does not plan, with why.
    skipped: Vec<(String, Outcome)>,
}

impl Objects {
    fn parse(documents: Vec<Value>, namespace: &str) -> Result<Objects, String> {
        let mut objects = Objects::default();
        for mut document in documents {
            let kind = document["kind"].as_str().unwrap_or_default().to_string();
            let name = document["metadata"]["name"]
                .as_str()
                .unwrap_or("?")
                .to_string();
            let api_version = document["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if !api_version.starts_with("ecs.operator.dev/") {
                continue;
            }
            let label = format!(
                "{kind} {}/{name}",
                document["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or(namespace)
            );
            if api_version != "ecs.operator.dev/v1alpha1" {
                let why =
                    format!("{api_version} is not a version of this operator's API (v1alpha1)");
                objects.skipped.push((label, Outcome::Failed(why)));
                continue;
            }
            if document["metadata"]["namespace"].is_null() {
                document["metadata"]["namespace"] = namespace.into();
            }
            let invalid = |e: serde_json::Error| format!("{kind} {name}: {e}");
            match kind.as_str() {
                "EcsCluster" => objects
                    .clusters
                    .push(serde_json::from_value(document).map_err(invalid)?),
                "EcsTaskDefinition" => objects
                    .definitions
                    .push(serde_json::from_value(document).map_err(invalid)?),
                "EcsService" => objects
                    .services
                    .push(serde_json::from_value(document).map_err(invalid)?),
                "EcsTask" => objects.skipped.push((
                    label,
                    Outcome::Skipped(
                        "an EcsTask runs its tasks once, when it is created; diff does not plan runs"
                            .into(),
                    ),
                )),
                "EcsScheduledTask" => objects.skipped.push((
                    label,
                    Outcome::Skipped("diff does not compare schedules yet".into()),
                )),
                "EcsCapacityProvider" => objects
                    .providers
                    .push(serde_json::from_value(document).map_err(invalid)?),
                other => objects.skipped.push((
                    label,
                    Outcome::Failed(format!("{other:?} is not a kind of this operator")),
                )),
            }
        }
        Ok(objects)
    }
}

/// What a service needs of its task definition: the revision it would run, and whether that
/// is one the diff plans to register.
#[derive(Clone)]
struct Revision {
    /// The revision ARN, or `family:next` for one not registered yet.
    arn: String,
    region: String,
}

struct Differ<'a> {
    ecs: Ecs,
    kube: Option<kube::Client>,
    objects: &'a Objects,
    default_region: Option<String>,
}

impl Differ<'_> {
    /// Every object: capacity providers, clusters (which use them), task definitions, then
    /// services (which use clusters and task definitions).
    async fn all(&self) -> Vec<(String, Outcome)> {
        let mut results = Vec::new();
        for provider in &self.objects.providers {
            results.push((label(provider), self.capacity_provider(provider).await));
        }
        for cluster in &self.objects.clusters {
            results.push((label(cluster), self.cluster(cluster).await));
        }
        let mut revisions = BTreeMap::new();
        for definition in &self.objects.definitions {
            let (outcome, revision) = self.task_definition(definition).await;
            if let Some(revision) = revision {
                revisions.insert(definition.name_any(), revision);
            }
            results.push((label(definition), outcome));
        }
        for service in &self.objects.services {
            let outcome = self
                .service(service, &revisions)
                .await
                .unwrap_or_else(Outcome::Failed);
            results.push((label(service), outcome));
        }
        results
    }

    fn region(&self, spec_region: Option<&str>) -> String {
        self.ecs
            .region(spec_region.or(self.default_region.as_deref()), None)
    }

    async fn capacity_provider(&self, obj: &EcsCapacityProvider) -> Outcome {
        let name = obj.ecs_name();
        let region = self.region(obj.spec.region.as_deref());
        let cluster = obj.spec.cluster.as_deref();
        let current = match self
            .ecs
            .describe_capacity_provider(&region, &name, cluster)
            .await
        {
            Ok(current) => current,
            Err(error) => return Outcome::Failed(crate::cli::one_shot(error)),
        };
        let Some(current) = current else {
            let scope = cluster
                .map(|c| format!(" (cluster {c})"))
                .unwrap_or_default();
            return Outcome::Changes(vec![format!(
                "creates capacity provider {name} in {region}{scope}"
            )]);
        };
        let what = format!("the capacity provider {name} in {region}");
        let current_tags = tags::from_ecs(current.tags());
        let adopted = match claim(obj, &current_tags, &what) {
            Ok(adopted) => adopted,
            Err(refused) => return Outcome::Refused(refused),
        };
        let desired_tags =
            tags::desired_tags(&obj.spec.tags, &identity_of(obj, Some(&current_tags)));
        let mut changes: Vec<String> = tag_sentence(
            &format!("capacity provider {name}"),
            adopted,
            &current_tags,
            &desired_tags,
        )
        .into_iter()
        .collect();
        let fields = provider_mapping::drift(&obj.spec, &current);
        if !fields.is_empty() {
            changes.push(format!(
                "UpdateCapacityProvider {name}: {}",
                fields.join(", ")
            ));
        }
        if changes.is_empty() {
            return Outcome::NoChange(format!("capacity provider {name} matches the spec"));
        }
        Outcome::Changes(changes)
    }

    /// The ECS names `capacityProviderRefs` name: the EcsCapacityProviders of the files, else
    /// the Kubernetes cluster's.
    async fn provider_names(&self, obj: &EcsCluster) -> Result<Vec<String>, String> {
        let namespace = obj.namespace().unwrap_or_default();
        let mut names = Vec::new();
        for reference in &obj.spec.capacity_provider_refs {
            let in_files = self.objects.providers.iter().find(|p| {
                p.name_any() == reference.name && p.namespace().as_deref() == Some(&namespace)
            });
            let name = match in_files {
                Some(provider) => provider.ecs_name(),
                None => self
                    .read_from_kubernetes::<EcsCapacityProvider>(&namespace, &reference.name)
                    .await?
                    .ecs_name(),
            };
            names.push(name);
        }
        Ok(names)
    }

    async fn cluster(&self, obj: &EcsCluster) -> Outcome {
        let providers = match self.provider_names(obj).await {
            Ok(providers) => providers,
            Err(why) => return Outcome::Failed(why),
        };
        let spec = cluster_mapping::with_providers(&obj.spec, &providers, false);
        let name = obj.ecs_name();
        let region = self.region(obj.spec.region.as_deref());
        let current = match self
            .ecs
            .describe_cluster(&region, &name, Duration::ZERO)
            .await
        {
            Ok(current) => current,
            Err(error) => return Outcome::Failed(crate::cli::one_shot(error)),
        };
        let Some(current) = current else {
            return Outcome::Changes(vec![format!("creates ECS cluster {name} in {region}")]);
        };
        let what = format!("the ECS cluster {name} in {region}");
        let current_tags = tags::from_ecs(current.tags());
        let adopted = match claim(obj, &current_tags, &what) {
            Ok(adopted) => adopted,
            Err(refused) => return Outcome::Refused(refused),
        };
        let resolved = obj
            .status
            .as_ref()
            .and_then(|s| s.service_connect_namespace.as_ref());
        let drift = cluster_mapping::drift(&spec, &current, resolved);
        let desired_tags =
            tags::desired_tags(&obj.spec.tags, &identity_of(obj, Some(&current_tags)));
        let mut changes: Vec<String> = tag_sentence(
            &format!("ECS cluster {name}"),
            adopted,
            &current_tags,
            &desired_tags,
        )
        .into_iter()
        .collect();
        if drift.is_empty() && changes.is_empty() {
            return Outcome::NoChange(format!("ECS cluster {name} matches the spec"));
        }
        if !drift.update.is_empty() {
            changes.push(format!("UpdateCluster {name}: {}", drift.update.join(", ")));
        }
        if drift.capacity_providers {
            changes.push(format!(
                "PutClusterCapacityProviders {name}: capacityProviders and the default strategy"
            ));
        }
        Outcome::Changes(changes)
    }

    /// The outcome, and the revision a service referencing this object would run.
    async fn task_definition(&self, obj: &EcsTaskDefinition) -> (Outcome, Option<Revision>) {
        let family = obj.ecs_family();
        let region = self.region(obj.spec.region.as_deref());
        let newest = match self.newest_revision(&region, &family).await {
            Ok(newest) => newest,
            Err(error) => return (Outcome::Failed(crate::cli::one_shot(error)), None),
        };
        let hash = task_definition_mapping::spec_hash(&obj.spec);
        let owner = owner(obj);
        let judged = newest.as_ref().map(|(_, tags)| revision_plan::Newest {
            ownership: ownership(tags, &owner),
            same_spec: tags.get(SPEC_HASH_TAG) == Some(&hash),
        });
        let managed_before = judged
            .as_ref()
            .is_some_and(|n| n.ownership == Ownership::Ours);
        let what = format!("the task definition family {family} in {region}");
        let registration =
            match revision_plan::registration(judged, managed_before, adopts(obj), &what) {
                Ok(registration) => registration,
                Err(refused) => return (Outcome::Refused(refused), None),
            };
        let newest_arn = newest.as_ref().map(|(definition, _)| {
            definition
                .task_definition_arn()
                .unwrap_or_default()
                .to_string()
        });
        // A family taken over whose newest revision is what the spec describes is only tagged,
        // as the controller does it.
        if registration == Some(revision_plan::Registration::Adopted)
            && let (Some((definition, _)), Some(arn)) = (&newest, &newest_arn)
        {
            let described = match self.ecs.describe_task_definition_json(&region, arn).await {
                Ok(described) => described,
                Err(error) => return (Outcome::Failed(crate::cli::one_shot(error)), None),
            };
            if revision_plan::describes(&obj.spec, &family, &described) {
                let short = format!("{family}:{}", definition.revision());
                let outcome = Outcome::Changes(vec![format!(
                    "adopts {short} as it is: tags it as this object's, registers nothing"
                )]);
                let revision = Revision {
                    arn: arn.clone(),
                    region,
                };
                return (outcome, Some(revision));
            }
        }
        match (registration, newest) {
            (None, Some((definition, _))) => {
                let arn = newest_arn.unwrap_or_default();
                let short = format!("{family}:{}", definition.revision());
                let outcome = Outcome::NoChange(format!("{short} matches the spec"));
                (outcome, Some(Revision { arn, region }))
            }
            (registration, newest) => {
                let next = match &newest {
                    Some((definition, _)) => definition.revision() + 1,
                    // Revision numbers are never reused: after deregistered ones comes the next.
                    None => match self.newest_inactive(&region, &family).await {
                        Ok(inactive) => inactive.unwrap_or(0) + 1,
                        Err(error) => return (Outcome::Failed(error), None),
                    },
                };
                let mut sentence = format!("registers {family}:{next}");
                if let Some(registration) = registration {
                    sentence.push_str(&format!(": {}", registration.describe()));
                }
                let mut changes = vec![sentence];
                if let Some((definition, _)) = &newest {
                    match revision_plan::changes(&obj.spec, definition) {
                        Ok(fields) if fields.is_empty() => {
                            changes.push("other fields of the spec changed".into())
                        }
                        Ok(fields) => changes.extend(fields),
                        Err(error) => return (Outcome::Refused(error.to_string()), None),
                    }
                }
                let revision = Revision {
                    arn: format!("{family}:{next}"),
                    region,
                };
                (Outcome::Changes(changes), Some(revision))
            }
        }
    }

    /// The family's revision ARNs of `status`, newest first (one ListTaskDefinitions; the
    /// family prefix also matches longer families, which are left out).
    async fn revisions(
        &self,
        region: &str,
        family: &str,
        status: TaskDefinitionStatus,
    ) -> Result<Vec<String>, String> {
        let listed = self
            .ecs
            .call(
                region,
                "ListTaskDefinitions",
                self.ecs
                    .client(region)
                    .list_task_definitions()
                    .family_prefix(family)
                    .status(status)
                    .sort(aws_sdk_ecs::types::SortOrder::Desc)
                    .send(),
            )
            .await
            .map_err(crate::cli::one_shot)?;
        Ok(listed
            .task_definition_arns()
            .iter()
            .filter(|arn| family_of(arn) == Some(family))
            .cloned()
            .collect())
    }

    /// The number of the family's newest INACTIVE (deregistered) revision.
    async fn newest_inactive(&self, region: &str, family: &str) -> Result<Option<i32>, String> {
        let arns = self
            .revisions(region, family, TaskDefinitionStatus::Inactive)
            .await?;
        Ok(arns
            .iter()
            .filter_map(|arn| arn.rsplit_once(':')?.1.parse().ok())
            .max())
    }

    /// The family's newest ACTIVE revision with its tags (ListTaskDefinitions, newest first,
    /// then DescribeTaskDefinition).
    async fn newest_revision(
        &self,
        region: &str,
        family: &str,
    ) -> Result<Option<(aws_sdk_ecs::types::TaskDefinition, BTreeMap<String, String>)>, String>
    {
        let active = self
            .revisions(region, family, TaskDefinitionStatus::Active)
            .await?;
        let Some(arn) = active.first() else {
            return Ok(None);
        };
        let described = self
            .ecs
            .call(
                region,
                "DescribeTaskDefinition",
                self.ecs
                    .client(region)
                    .describe_task_definition()
                    .task_definition(arn)
                    .include(TaskDefinitionField::Tags)
                    .send(),
            )
            .await
            .map_err(crate::cli::one_shot)?;
        let tags = tags::from_ecs(described.tags());
        Ok(described.task_definition.map(|d| (d, tags)))
    }

    async fn service(
        &self,
        obj: &EcsService,
        revisions: &BTreeMap<String, Revision>,
    ) -> Result<Outcome, String> {
        let name = obj.ecs_name();
        let namespace = obj.namespace().unwrap_or_default();
        let (cluster, cluster_region) = match (&obj.spec.cluster, &obj.spec.cluster_ref) {
            (Some(cluster), _) => (cluster.clone(), None),
            (None, Some(reference)) => self.cluster_of(&namespace, &reference.name).await?,
            (None, None) => return Ok(Outcome::Refused("the spec names no cluster".into())),
        };
        let (task_definition, definition_region) =
            match (&obj.spec.task_definition, &obj.spec.task_definition_ref) {
                (Some(task_definition), _) => {
                    let region = obj.spec.region.clone().or(cluster_region.clone());
                    let region = region.unwrap_or_else(|| self.region(None));
                    (
                        self.ecs
                            .task_definition_arn(&region, task_definition)
                            .await
                            .map_err(crate::cli::one_shot)?,
                        None,
                    )
                }
                (None, Some(reference)) => match revisions.get(&reference.name) {
                    Some(revision) => (revision.arn.clone(), Some(revision.region.clone())),
                    None => self.revision_of(&namespace, &reference.name).await?,
                },
                (None, None) => {
                    return Ok(Outcome::Refused("the spec names no task definition".into()));
                }
            };
        let region = obj
            .spec
            .region
            .clone()
            .or(cluster_region)
            .or(definition_region)
            .unwrap_or_else(|| self.region(None));
        let current = self
            .ecs
            .describe_service(&region, &cluster, &name, Duration::ZERO)
            .await;
        let current = match current {
            Ok(current) => current.filter(|s| s.status() != Some("INACTIVE")),
            // The cluster does not exist: neither does the service. The operator creates it
            // only once the cluster is there, which it is now only when the files create it.
            Err(crate::Error::Ecs {
                class: crate::error::EcsErrorClass::NotFound,
                ..
            }) if self
                .objects
                .clusters
                .iter()
                .any(|c| c.ecs_name() == cluster) =>
            {
                None
            }
            Err(crate::Error::Ecs {
                class: crate::error::EcsErrorClass::NotFound,
                ..
            }) => {
                return Ok(Outcome::NoChange(format!(
                    "waits for ECS cluster {cluster}, which does not exist in {region}"
                )));
            }
            Err(error) => return Err(crate::cli::one_shot(error)),
        };
        let current_tags = current.as_ref().map(|s| tags::from_ecs(s.tags()));
        let desired_tags =
            tags::desired_tags(&obj.spec.tags, &identity_of(obj, current_tags.as_ref()));
        let uid = obj.uid().unwrap_or_default();
        // Compared as if this generation had been sent: what differs in ECS is what would change.
        let generation = obj.meta().generation.or(Some(1));
        let desired = service_plan::Desired {
            spec: &obj.spec,
            name: &name,
            cluster: &cluster,
            task_definition: &task_definition,
            generation,
            uid: &uid,
            restarted_at: None,
            tags: &desired_tags,
        };
        let scaling = self
            .autoscaling(obj, &region, &cluster, current.is_some())
            .await?;
        let Some(current) = current else {
            return Ok(match service_plan::plan_create(&desired, None) {
                Ok(plan) => Outcome::Changes(
                    std::iter::once(format!(
                        "creates ECS service {name} in cluster {cluster} running \
                         {task_definition} with {} task(s)",
                        plan.desired_count
                    ))
                    .chain(scaling)
                    .collect(),
                ),
                Err(error) => Outcome::Refused(error.to_string()),
            });
        };
        let what = format!("the ECS service {name} in cluster {cluster}");
        let current_tags = current_tags.unwrap_or_default();
        let adopted = match claim(obj, &current_tags, &what) {
            Ok(adopted) => adopted,
            Err(refused) => return Ok(Outcome::Refused(refused)),
        };
        let old = EcsServiceStatus {
            applied_generation: generation,
            ..obj.status.clone().unwrap_or_default()
        };
        let plan = match service_plan::plan_update(&desired, &current, &old) {
            Ok(plan) => plan,
            Err(error) => return Ok(Outcome::Refused(error.to_string())),
        };
        let mut changes: Vec<String> = tag_sentence(
            &format!("ECS service {name}"),
            adopted,
            &current_tags,
            &desired_tags,
        )
        .into_iter()
        .collect();
        if plan.update.is_some() {
            let fields: Vec<String> = plan
                .drift
                .iter()
                .map(|field| {
                    service_plan::describe_drift(field, &obj.spec, &task_definition, &current)
                })
                .collect();
            changes.push(format!("UpdateService {name}: {}", fields.join(", ")));
        }
        changes.extend(scaling);
        Ok(if changes.is_empty() {
            let running = current
                .task_definition()
                .map(service_mapping::task_definition_revision)
                .and_then(|r| r.map(|r| format!(" on revision {r}")))
                .unwrap_or_default();
            Outcome::NoChange(format!("ECS service {name} matches the spec{running}"))
        } else {
            Outcome::Changes(changes)
        })
    }

    /// What the operator would change in Application Auto Scaling for `obj`, as one line (see
    /// [`autoscaling::plan`]): read only for a service that has (or, per its status, had)
    /// autoscaling and exists in ECS.
    async fn autoscaling(
        &self,
        obj: &EcsService,
        region: &str,
        cluster: &str,
        exists: bool,
    ) -> Result<Option<String>, String> {
        let had = obj.status.as_ref().is_some_and(|s| s.autoscaling.is_some());
        if obj.spec.autoscaling.is_none() && !had {
            return Ok(None);
        }
        let name = obj.ecs_name();
        let resource_id = autoscaling::resource_id(cluster, &name);
        let current = if exists {
            self.ecs
                .read_autoscaling(region, &resource_id)
                .await
                .map_err(crate::cli::one_shot)?
        } else {
            autoscaling::Current::default()
        };
        let plan = autoscaling::plan(obj.spec.autoscaling.as_ref(), &resource_id, &current)
            .map_err(|e| e.to_string())?;
        Ok((!plan.is_empty()).then(|| plan.summary(&name)))
    }

    /// The ECS name and region of the EcsCluster `name`: from the files, else the cluster's.
    async fn cluster_of(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<(String, Option<String>), String> {
        if let Some(cluster) = self
            .objects
            .clusters
            .iter()
            .find(|c| c.name_any() == name && c.namespace().as_deref() == Some(namespace))
        {
            return Ok((
                cluster.ecs_name(),
                Some(self.region(cluster.spec.region.as_deref())),
            ));
        }
        let cluster: EcsCluster = self.read_from_kubernetes(namespace, name).await?;
        let region = cluster
            .status
            .as_ref()
            .and_then(|s| s.cluster_arn.as_deref())
            .and_then(crate::ecs::arn_region)
            .map(str::to_string);
        Ok((cluster.ecs_name(), region))
    }

    /// The revision ARN the EcsTaskDefinition `name` records, from the Kubernetes cluster.
    async fn revision_of(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<(String, Option<String>), String> {
        let definition: EcsTaskDefinition = self.read_from_kubernetes(namespace, name).await?;
        let arn = definition
            .current_arn()
            .map(str::to_string)
            .ok_or_else(|| {
                format!("EcsTaskDefinition {namespace}/{name} has not registered a revision yet")
            })?;
        let region = crate::ecs::arn_region(&arn).map(str::to_string);
        Ok((arn, region))
    }

    async fn read_from_kubernetes<K>(&self, namespace: &str, name: &str) -> Result<K, String>
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        let not_found = || {
            format!(
                "{} {namespace}/{name} is neither in the files nor readable in the Kubernetes cluster",
                K::kind(&())
            )
        };
        let client = self.kube.clone().ok_or_else(not_found)?;
        kube::Api::<K>::namespaced(client, namespace)
            .get(name)
            .await
            .map_err(|_| not_found())
    }
}

fn label<K: kube::Resource<DynamicType = ()>>(obj: &K) -> String {
    format!(
        "{} {}/{}",
        K::kind(&()),
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    )
}

fn owner<K: kube::Resource>(obj: &K) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

fn adopts<K: kube::Resource>(obj: &K) -> bool {
    obj.annotations()
        .get(ADOPT_ANNOTATION)
        .is_some_and(|v| v == "true")
}

/// Whose an ECS object is, judged from its owner tag alone: the diff does not know the uid a
/// manifest not applied yet will get, nor the Kubernetes cluster it goes to.
fn ownership(tags: &BTreeMap<String, String>, owner: &str) -> Ownership {
    match tags.get(OWNER_TAG) {
        None => Ownership::Unowned,
        Some(tagged) if tagged == owner => Ownership::Ours,
        Some(tagged) => Ownership::Foreign {
            owner: tagged.clone(),
        },
    }
}

/// Refuses an ECS object the operator would leave alone (see [`tags::claim`]); true when the
/// operator would adopt it.
fn claim<K: kube::Resource>(
    obj: &K,
    tags: &BTreeMap<String, String>,
    what: &str,
) -> Result<bool, String> {
    tags::claim(ownership(tags, &owner(obj)), adopts(obj), what).map(|c| c == tags::Claim::Adopt)
}

/// What the tags of an ECS object become: an adoption tags it as the object's; otherwise the
/// keys set and removed (None: nothing).
fn tag_sentence(
    what: &str,
    adopted: bool,
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Option<String> {
    if adopted {
        return Some(format!("adopts {what}: tags it as this object's"));
    }
    let changes = tags::tag_changes(current, desired);
    (!changes.is_empty()).then(|| format!("tags of {what}: {}", changes.summary()))
}

/// The ownership tags the operator would write: those the ECS object carries when it is this
/// object's already (the uid and the Kubernetes cluster a manifest is applied to are not known
/// here), else the object's own.
fn identity_of<K: kube::Resource>(
    obj: &K,
    current: Option<&BTreeMap<String, String>>,
) -> tags::OwnerIdentity {
    let tagged = |key: &str| current.and_then(|tags| tags.get(key)).cloned();
    tags::OwnerIdentity {
        owner: owner(obj),
        uid: tagged(UID_TAG)
            .or_else(|| obj.meta().uid.clone())
            .unwrap_or_default(),
        cluster_id: tagged(CLUSTER_ID_TAG).unwrap_or_default(),
    }
}

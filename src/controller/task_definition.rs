//! EcsTaskDefinition controller: registers a revision when (and only when) the spec changed,
//! keeps the revision history within its limit, and deregisters what it registered on delete.
//!
//! Idempotency without a client token: every revision the operator registers carries the hash
//! of the spec it came from, so comparing the newest revision's hash with the spec's tells
//! whether to register — also after a restart or a crash between register and status write.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::types::{TaskDefinition, TaskDefinitionField, TaskDefinitionStatus};
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::EventType;
use kube::runtime::reflector::Store;
use kube::runtime::watcher;

use super::{Applied, Cleanup, Context, Managed, drive, wants_adoption};
use crate::api::{DeletionPolicy, EcsTaskDefinition, EcsTaskDefinitionStatus, SPEC_HASH_TAG};
use crate::error::EcsErrorClass;
use crate::mapping::conditions::Health;
use crate::mapping::tags::{self, Ownership};
use crate::mapping::task_definition::{self as mapping, plan};
use crate::{Error, Result};

/// DeleteTaskDefinitions takes at most 10 revisions per call.
const DELETE_BATCH: usize = 10;

super::object_status!(EcsTaskDefinitionStatus);

impl Managed for EcsTaskDefinition {
    type Status = EcsTaskDefinitionStatus;
    const KIND: &'static str = "EcsTaskDefinition";

    fn status(&self) -> Option<&EcsTaskDefinitionStatus> {
        self.status.as_ref()
    }

    fn spec_region(&self) -> Option<&str> {
        self.spec.region.as_deref()
    }

    fn arn_in(status: &EcsTaskDefinitionStatus) -> Option<&str> {
        status.task_definition_arn.as_deref()
    }
}

impl EcsTaskDefinition {
    /// The ECS family: spec.family, else metadata.name.
    pub fn ecs_family(&self) -> String {
        self.spec.family.clone().unwrap_or_else(|| self.name_any())
    }

    /// The ARN of the newest revision registered for this object (for an earlier spec while a
    /// change waits to be registered: see [`Self::registers_current_spec`]).
    pub fn current_arn(&self) -> Option<&str> {
        self.status.as_ref()?.task_definition_arn.as_deref()
    }

    /// Whether the newest registered revision is the one the spec describes now.
    pub fn registers_current_spec(&self) -> bool {
        self.status.as_ref().and_then(|s| s.spec_hash.as_deref())
            == Some(mapping::spec_hash(&self.spec).as_str())
    }
}

pub async fn reconcile(obj: Arc<EcsTaskDefinition>, ctx: Arc<Context>) -> Result<Action> {
    drive(obj, ctx, apply, cleanup).await
}

pub fn error_policy(obj: Arc<EcsTaskDefinition>, error: &Error, ctx: Arc<Context>) -> Action {
    super::backoff_on_error(obj.as_ref(), error, &ctx, EcsTaskDefinition::KIND)
}

/// The controller, ready to run; its store serves readiness.
pub fn controller(
    api: Api<EcsTaskDefinition>,
    config: watcher::Config,
) -> (Controller<EcsTaskDefinition>, Store<EcsTaskDefinition>) {
    super::watched(api, config)
}

/// The newest ACTIVE revision of a family, with its tags.
struct Revision {
    definition: TaskDefinition,
    tags: BTreeMap<String, String>,
}

async fn describe(ctx: &Context, region: &str, task_definition: &str) -> Result<Option<Revision>> {
    let client = ctx.ecs.client(region);
    let request = client
        .describe_task_definition()
        .task_definition(task_definition)
        .include(TaskDefinitionField::Tags)
        .send();
    match ctx
        .ecs
        .call(region, "DescribeTaskDefinition", request)
        .await
    {
        Ok(output) => Ok(output.task_definition.map(|definition| Revision {
            definition,
            tags: tags::from_ecs(output.tags.as_deref().unwrap_or_default()),
        })),
        // ECS answers a family without ACTIVE revisions with a ClientException.
        Err(Error::Ecs {
            class: EcsErrorClass::Invalid | EcsErrorClass::NotFound,
            message,
            ..
        }) if message.contains("Unable to describe")
            || message.contains("not found")
            || message.contains("does not exist") =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

async fn apply(
    obj: Arc<EcsTaskDefinition>,
    ctx: Arc<Context>,
) -> Result<Applied<EcsTaskDefinitionStatus>> {
    let family = obj.ecs_family();
    let region = ctx.region(obj.as_ref());
    let identity = ctx.identity(obj.as_ref());
    let hash = mapping::spec_hash(&obj.spec);
    let desired_tags = tags::desired_tags(&obj.spec.tags, &identity);
    let managed_before = obj.current_arn().is_some();
    announce_ignored_fields(&ctx, obj.as_ref()).await;

    // A steady object (Ready for its generation, its revision registered from this spec) only
    // needs its family's newest ACTIVE revision to still be its own: one sweep of the region's
    // revisions answers that for every family.
    // When no sweep pays, one list of the family's ACTIVE revisions (which pruning needs anyway)
    // answers the same.
    let max_age = super::read_max_age(&ctx, obj.as_ref(), Duration::from_secs(10));
    if max_age == ctx.resync
        && let Some(status) = obj.status.as_ref()
        && status.spec_hash.as_deref() == Some(hash.as_str())
        && let Some(arn) = status.task_definition_arn.as_deref()
    {
        let steady = match ctx.ecs.newest_revision(&region, &family, max_age).await? {
            Some(newest) => newest.as_deref() == Some(arn),
            None => {
                let active =
                    list_revisions(&ctx, &region, &family, TaskDefinitionStatus::Active).await?;
                let newest = active.first().map(|(_, newest)| newest.as_str()) == Some(arn);
                if newest {
                    prune(&ctx, &region, &obj, &family, arn, Some(active)).await?;
                }
                newest
            }
        };
        if steady {
            return Ok(Applied {
                health: Health::Ready {
                    message: ready_message(&obj, arn),
                },
                status: status.clone(),
                requeue: None,
            });
        }
    }

    let mut latest = describe(&ctx, &region, &family).await?;
    // Describing a family can lag a registration just made; the revision recorded in status for
    // this very spec is authoritative when it is newer and still ACTIVE.
    if let Some(status) = obj.status.as_ref()
        && status.spec_hash.as_deref() == Some(hash.as_str())
        && let (Some(arn), Some(recorded)) =
            (status.task_definition_arn.as_deref(), status.revision)
        && latest
            .as_ref()
            .is_none_or(|l| l.definition.revision() < recorded)
        && let Some(revision) = describe(&ctx, &region, arn).await?
        && revision.definition.status() == Some(&TaskDefinitionStatus::Active)
    {
        latest = Some(revision);
    }
    let what = format!("the task definition family {family} in {region}");
    let newest = latest.as_ref().map(|latest| plan::Newest {
        ownership: identity.judge(&latest.tags),
        same_spec: latest.tags.get(SPEC_HASH_TAG) == Some(&hash),
    });
    let registration =
        plan::registration(newest, managed_before, wants_adoption(obj.as_ref()), &what)
            .map_err(Error::OwnershipConflict)?;

    // A family taken over whose newest revision is what the spec describes (the spec was
    // imported from it, or written to match) is adopted as it is: registering the same content
    // again would roll every service on it for nothing.
    let mut registration = registration;
    let mut adopted_as_is = false;
    if registration == Some(plan::Registration::Adopted)
        && let Some(latest) = &latest
        && let Some(arn) = latest.definition.task_definition_arn()
        && describes(&ctx, &region, arn, &obj).await?
    {
        let note = format!("adopted the task definition family {family}: {arn} matches the spec");
        ctx.event(obj.as_ref(), EventType::Normal, "Adopted", note)
            .await;
        registration = None;
        adopted_as_is = true;
    }

    let current = match registration {
        None => {
            let latest = latest.expect("no registration only when the latest revision matches");
            let arn = latest.definition.task_definition_arn().unwrap_or_default();
            if !adopted_as_is && unrecorded(&ctx, obj.as_ref(), &latest.definition).await {
                // Registered by this object, which stopped before recording it (a crash, a
                // restart): announced now, once, as the status write that follows records it.
                let note = format!("registered {arn} (recorded after a restart)");
                ctx.event(obj.as_ref(), EventType::Normal, "RevisionRegistered", note)
                    .await;
            }
            latest
        }
        Some(registration) => {
            let mut tags = desired_tags.clone();
            tags.insert(SPEC_HASH_TAG.to_string(), hash.clone());
            let revision = register(&ctx, &region, &obj, &family, tags).await?;
            let arn = revision
                .definition
                .task_definition_arn()
                .unwrap_or_default()
                .to_string();
            ctx.ecs.record_revision(&region, &family, &arn).await;
            let note = registration.note(&family, &arn);
            if registration == plan::Registration::Adopted {
                let note = format!("adopted the task definition family {family}");
                ctx.event(obj.as_ref(), EventType::Normal, "Adopted", note)
                    .await;
            }
            ctx.event(obj.as_ref(), EventType::Normal, "RevisionRegistered", note)
                .await;
            revision
        }
    };
    let arn = current
        .definition
        .task_definition_arn()
        .unwrap_or_default()
        .to_string();

    // Tags can change on a revision without registering a new one.
    let mut wanted = desired_tags;
    wanted.insert(SPEC_HASH_TAG.to_string(), hash.clone());
    let changes = tags::tag_changes(&current.tags, &wanted);
    if !changes.is_empty() {
        ctx.ecs.apply_tag_changes(&region, &arn, &changes).await?;
        super::announce_changes(&ctx, obj.as_ref(), &format!("tags of {arn}"), &["tags"]).await;
    }

    prune(&ctx, &region, &obj, &family, &arn, None).await?;

    let status = EcsTaskDefinitionStatus {
        family: Some(family.clone()),
        revision: Some(current.definition.revision()),
        task_definition_arn: Some(arn.clone()),
        spec_hash: Some(hash),
        ..obj.status.clone().unwrap_or_default()
    };
    Ok(Applied {
        health: Health::Ready {
            message: ready_message(&obj, &arn),
        },
        status,
        requeue: None,
    })
}

/// Ready's message: the revision, and the describe-output fields the spec carries that were
/// ignored (the event that names them expires; status keeps saying it).
fn ready_message(obj: &EcsTaskDefinition, arn: &str) -> String {
    let ignored = obj.spec.output_only_fields();
    if ignored.is_empty() {
        format!("{arn} matches the spec")
    } else {
        format!(
            "{arn} matches the spec (ignored, as ECS sets them: {})",
            ignored.join(", ")
        )
    }
}

/// Says once per generation which output-only fields of a pasted describe-task-definition
/// output the spec carries: accepted so that the paste applies, and ignored. A CRD's schema
/// rules can refuse but not warn, and the operator ships no webhook, so an event says it.
async fn announce_ignored_fields(ctx: &Context, obj: &EcsTaskDefinition) {
    let fields = obj.spec.output_only_fields();
    let observed = obj.status.as_ref().and_then(|s| s.observed_generation);
    if fields.is_empty() || observed.is_some() && observed == obj.metadata.generation {
        return;
    }
    let note = format!(
        "ignored {}: ECS sets them itself (describe-task-definition output)",
        fields.join(", ")
    );
    ctx.event(obj, EventType::Normal, "OutputFieldsIgnored", note)
        .await;
}

/// Whether revision `arn` is what `obj`'s spec registers ([`plan::describes`]).
async fn describes(
    ctx: &Context,
    region: &str,
    arn: &str,
    obj: &EcsTaskDefinition,
) -> Result<bool> {
    let described = ctx.ecs.describe_task_definition_json(region, arn).await?;
    Ok(plan::describes(&obj.spec, &obj.ecs_family(), &described))
}

/// Whether `definition` (the family's newest, registered from this spec by this object) is newer
/// than any revision status records, also in a fresh read (the cache can lag).
async fn unrecorded(
    ctx: &Context,
    obj: &EcsTaskDefinition,
    definition: &aws_sdk_ecs::types::TaskDefinition,
) -> bool {
    let newer = |status: Option<&EcsTaskDefinitionStatus>| {
        definition.revision() > status.and_then(|s| s.revision).unwrap_or(0)
    };
    newer(obj.status.as_ref())
        && super::read_status(&super::api_for(&ctx.client, obj), obj)
            .await
            .is_ok_and(|fresh| newer(fresh.as_ref()))
}

async fn register(
    ctx: &Context,
    region: &str,
    obj: &EcsTaskDefinition,
    family: &str,
    tags: BTreeMap<String, String>,
) -> Result<Revision> {
    let input = mapping::register_input(&obj.spec, family, tags::to_ecs(&tags))?;
    let client = ctx.ecs.client(region);
    let output = ctx
        .ecs
        .call(region, "RegisterTaskDefinition", input.send_with(&client))
        .await?;
    Ok(Revision {
        definition: output
            .task_definition
            .ok_or_else(|| Error::empty_response("RegisterTaskDefinition"))?,
        // The revision carries what we sent (RegisterTaskDefinition does not always echo it).
        tags,
    })
}

/// ARNs of the family's revisions with the given status, newest first, across all pages.
/// `familyPrefix` matches by prefix, so revisions of longer family names are filtered out.
async fn list_revisions(
    ctx: &Context,
    region: &str,
    family: &str,
    status: TaskDefinitionStatus,
) -> Result<Vec<(i32, String)>> {
    let client = ctx.ecs.client(region);
    let mut revisions = Vec::new();
    let mut next_token = None;
    loop {
        let request = client
            .list_task_definitions()
            .family_prefix(family)
            .status(status.clone())
            .sort(aws_sdk_ecs::types::SortOrder::Desc)
            .set_next_token(next_token)
            .send();
        let page = ctx.ecs.call(region, "ListTaskDefinitions", request).await?;
        revisions.extend(page.task_definition_arns().iter().filter_map(|arn| {
            let (name, revision) = arn.rsplit_once('/')?.1.rsplit_once(':')?;
            let revision: i32 = revision.parse().ok()?;
            (name == family).then(|| (revision, arn.clone()))
        }));
        next_token = page.next_token;
        if next_token.is_none() {
            break;
        }
    }
    revisions.sort_by_key(|(revision, _)| std::cmp::Reverse(*revision));
    Ok(revisions)
}

/// Deregisters (and deletes) this object's revisions beyond revisionHistoryLimit, except the
/// current one and any a service of this operator still runs. `listed`: the family's ACTIVE
/// revisions, newest first, when the caller has them already.
async fn prune(
    ctx: &Context,
    region: &str,
    obj: &EcsTaskDefinition,
    family: &str,
    current_arn: &str,
    listed: Option<Vec<(i32, String)>>,
) -> Result<()> {
    let limit = obj.spec.revision_history_limit_or_default();
    let active = match listed {
        Some(active) => active,
        None => list_revisions(ctx, region, family, TaskDefinitionStatus::Active).await?,
    };
    if active.len() <= limit {
        return Ok(());
    }
    if !ctx.service_stores_ready() {
        // Which revisions services run is not known yet; the next resync prunes.
        return Ok(());
    }
    let in_use = super::service::task_definitions_in_use(ctx);
    let candidates = mapping::revisions_to_prune(&active, limit, &in_use, current_arn);
    let identity = ctx.identity(obj);
    let mut pruned = Vec::new();
    for arn in candidates {
        // Only revisions this object registered; older, adopted ones stay.
        let Some(revision) = describe(ctx, region, &arn).await? else {
            continue;
        };
        if identity.judge(&revision.tags) != Ownership::Ours {
            continue;
        }
        deregister(ctx, region, &arn).await?;
        pruned.push(arn);
    }
    if !pruned.is_empty() {
        delete_inactive(ctx, region, &pruned).await;
        let names: Vec<&str> = pruned
            .iter()
            .map(|arn| arn.rsplit('/').next().unwrap_or(arn))
            .collect();
        ctx.event(
            obj,
            EventType::Normal,
            "RevisionDeregistered",
            format!(
                "deregistered {} (revisionHistoryLimit {limit})",
                names.join(", ")
            ),
        )
        .await;
    }
    Ok(())
}

async fn deregister(ctx: &Context, region: &str, arn: &str) -> Result<()> {
    let client = ctx.ecs.client(region);
    let request = client
        .deregister_task_definition()
        .task_definition(arn)
        .send();
    match ctx
        .ecs
        .call(region, "DeregisterTaskDefinition", request)
        .await
    {
        Ok(_) => Ok(()),
        // Already INACTIVE or gone: that is what we wanted.
        Err(Error::Ecs {
            class: EcsErrorClass::Invalid | EcsErrorClass::NotFound,
            ..
        }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Deletes deregistered revisions, where ECS allows it. Best effort: an INACTIVE revision that
/// stays is harmless, so a failure is logged, not retried.
async fn delete_inactive(ctx: &Context, region: &str, arns: &[String]) {
    let client = ctx.ecs.client(region);
    for chunk in arns.chunks(DELETE_BATCH) {
        let request = client
            .delete_task_definitions()
            .set_task_definitions(Some(chunk.to_vec()))
            .send();
        if let Err(error) = ctx.ecs.call(region, "DeleteTaskDefinitions", request).await {
            tracing::info!(%error, "could not delete deregistered task definition revisions");
        }
    }
}

async fn cleanup(obj: Arc<EcsTaskDefinition>, ctx: Arc<Context>) -> Result<Cleanup> {
    let family = obj.ecs_family();
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(Cleanup::Done(format!(
            "retained the revisions of {family} (deletionPolicy Retain)"
        )));
    }
    if !ctx.service_stores_ready() {
        // Right after a start: which revisions services run is not known yet.
        return Ok(Cleanup::Waiting(
            "waiting for the EcsService cache to tell which revisions are in use".into(),
        ));
    }
    let region = ctx.region(obj.as_ref());
    let identity = ctx.identity(obj.as_ref());
    let mut deregistered = Vec::new();
    for (_, arn) in list_revisions(&ctx, &region, &family, TaskDefinitionStatus::Active).await? {
        let Some(revision) = describe(&ctx, &region, &arn).await? else {
            continue;
        };
        if identity.judge(&revision.tags) == Ownership::Ours {
            deregister(&ctx, &region, &arn).await?;
            deregistered.push(arn);
        }
    }
    // Deregistered revisions keep serving services that run them; deleted ones cannot be deployed
    // again (a forced deployment, a rollback), so those a service here still uses stay.
    let in_use = super::service::task_definitions_in_use(&ctx);
    let deletable: Vec<String> = deregistered
        .iter()
        .filter(|arn| !in_use.contains(*arn))
        .cloned()
        .collect();
    delete_inactive(&ctx, &region, &deletable).await;
    let mut note = format!(
        "deregistered {} revision(s) of {family}",
        deregistered.len()
    );
    if deletable.len() < deregistered.len() {
        note.push_str(&format!(
            "; kept {} still used by a service (INACTIVE, not deleted)",
            deregistered.len() - deletable.len()
        ));
    }
    Ok(Cleanup::Done(note))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(image: &str, registered_image: Option<&str>) -> EcsTaskDefinition {
        let spec = |image: &str| {
            serde_json::from_value(serde_json::json!({
                "containerDefinitions": [{"name": "app", "image": image}]
            }))
            .unwrap()
        };
        let mut obj = EcsTaskDefinition::new("web", spec(image));
        obj.status = registered_image.map(|image| EcsTaskDefinitionStatus {
            task_definition_arn: Some("arn:aws:ecs:eu-west-1:1:task-definition/web:1".into()),
            spec_hash: Some(mapping::spec_hash(&spec(image))),
            ..Default::default()
        });
        obj
    }

    #[test]
    fn the_current_spec_is_registered_only_when_its_hash_is_recorded() {
        assert!(definition("app:1", Some("app:1")).registers_current_spec());
        // Edited, not registered yet (or refused by ECS): the recorded revision is the old spec's.
        assert!(!definition("app:2", Some("app:1")).registers_current_spec());
        assert!(!definition("app:1", None).registers_current_spec());
    }
}

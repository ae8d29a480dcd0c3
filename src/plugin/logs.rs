//! `kubectl ecs logs NAME|TASK`: the CloudWatch Logs of a service's or an EcsTask's tasks
//! (running, and stopped within the hour ECS keeps them), or of one task, found through the awslogs options of
//! each container's task definition. ECS names an awslogs stream
//! `<awslogs-stream-prefix>/<container name>/<task ID>` ("Using the awslogs log driver", ECS
//! developer guide); a container without a prefix logs to a stream named after its Docker
//! container ID, which cannot be found from the task, so it is skipped with a note.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_ecs::types::{Task, TaskDefinition};
use clap::Args;
use k8s_openapi::jiff::Timestamp;
use kube::{Api, Client};

use super::tasks::{ecs_client, task_id, tasks_of};
use super::{Placement, workload_named};
use crate::api::EcsService;

#[derive(Clone, Debug, Args)]
pub struct LogsArgs {
    /// An EcsService or EcsTask, or a task's ID or ARN (a task of one of the namespace's
    /// services).
    pub target: String,

    /// Only this container's logs.
    #[arg(short = 'c', long)]
    pub container: Option<String>,

    /// Only events newer than this (for example 10m, 2h).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub since: Option<Duration>,

    /// Keep printing new events as they come.
    #[arg(short = 'f', long)]
    pub follow: bool,
}

/// One container's log stream.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    pub region: String,
    pub group: String,
    pub stream: String,
    /// `<task ID>/<container>`, the prefix of each line when several sources print.
    pub label: String,
}

/// How often `--follow` asks CloudWatch Logs for new events.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);

pub async fn logs(
    client: &Client,
    namespace: &str,
    args: LogsArgs,
    aws: &SdkConfig,
) -> Result<(), String> {
    let (tasks, region) = match workload_named(client, namespace, &args.target).await {
        Ok(workload) => tasks_of(&workload, aws).await?,
        Err(_) => find_task(client, namespace, &args.target, aws).await?,
    };
    if tasks.is_empty() {
        return Err(format!("{} has no tasks", args.target));
    }
    let mut sources = BTreeSet::new();
    let mut skipped_any = false;
    let mut definitions: BTreeMap<String, TaskDefinition> = BTreeMap::new();
    let ecs = ecs_client(aws, &region);
    for task in &tasks {
        let arn = task.task_definition_arn().unwrap_or_default().to_string();
        if !definitions.contains_key(&arn) {
            let described = ecs
                .describe_task_definition()
                .task_definition(&arn)
                .send()
                .await
                .map_err(|e| crate::ecs::sentence("DescribeTaskDefinition", e))?;
            let definition = described
                .task_definition
                .ok_or_else(|| format!("task definition {arn} not found"))?;
            definitions.insert(arn.clone(), definition);
        }
        let (found, skipped) =
            sources_of(task, &definitions[&arn], &region, args.container.as_deref());
        skipped_any |= !skipped.is_empty();
        for container in skipped {
            eprintln!(
                "note: container {container} of task {} sets no awslogs-stream-prefix; its stream cannot be found",
                task_id(task.task_arn().unwrap_or_default())
            );
        }
        sources.extend(found);
    }
    if sources.is_empty() {
        return Err(no_sources(&args, definitions.values(), skipped_any));
    }
    let prefixed = sources.len() > 1;
    let since = args
        .since
        .map(|since| Timestamp::now().as_millisecond() - since.as_millis() as i64);
    print_events(aws, &sources, since, prefixed, args.follow).await
}

/// Why there is nothing to read: the container named with `-c` is not in the task definition,
/// its containers set no stream prefix, or none logs with awslogs.
fn no_sources<'a>(
    args: &LogsArgs,
    definitions: impl Iterator<Item = &'a TaskDefinition> + Clone,
    skipped_any: bool,
) -> String {
    let target = &args.target;
    if let Some(container) = &args.container {
        let known = definitions.clone().any(|d| {
            d.container_definitions()
                .iter()
                .any(|c| c.name() == Some(container.as_str()))
        });
        if !known {
            return format!("the task definition of {target} has no container {container}");
        }
    }
    if skipped_any {
        format!(
            "no container of {target} sets an awslogs-stream-prefix, so its log streams cannot be found"
        )
    } else {
        format!("no container of {target} logs to CloudWatch Logs with the awslogs driver")
    }
}

/// The task `target` (an ID or ARN), looked for in the clusters of the namespace's services.
async fn find_task(
    client: &Client,
    namespace: &str,
    target: &str,
    aws: &SdkConfig,
) -> Result<(Vec<Task>, String), String> {
    let services = Api::<EcsService>::namespaced(client.clone(), namespace)
        .list(&Default::default())
        .await
        .map_err(|e| format!("listing EcsServices: {}", crate::cli::kube_message(&e)))?;
    let default_region = aws.region().map(|r| r.as_ref().to_string());
    let mut looked = BTreeSet::new();
    for service in &services.items {
        let Ok(placement) = Placement::of(service, default_region.as_deref()) else {
            continue;
        };
        if !looked.insert((placement.region.clone(), placement.cluster.clone())) {
            continue;
        }
        let described = ecs_client(aws, &placement.region)
            .describe_tasks()
            .cluster(&placement.cluster)
            .tasks(target)
            .send()
            .await
            .map_err(|e| crate::ecs::sentence("DescribeTasks", e))?;
        if let Some(task) = described.tasks.unwrap_or_default().into_iter().next() {
            return Ok((vec![task], placement.region));
        }
    }
    Err(format!(
        "{target} is neither an EcsService of namespace {namespace} nor a task of its services"
    ))
}

/// The log streams of `task`'s containers that log with awslogs and a stream prefix (and, with
/// `container`, only that one's), and the names of those without a prefix.
pub fn sources_of(
    task: &Task,
    definition: &TaskDefinition,
    region: &str,
    container: Option<&str>,
) -> (Vec<Source>, Vec<String>) {
    let id = task_id(task.task_arn().unwrap_or_default());
    let (mut sources, mut skipped) = (Vec::new(), Vec::new());
    for definition in definition.container_definitions() {
        let name = definition.name().unwrap_or_default();
        if container.is_some_and(|c| c != name) {
            continue;
        }
        let Some(log) = definition
            .log_configuration()
            .filter(|l| l.log_driver().as_str() == "awslogs")
        else {
            continue;
        };
        let options = log.options().cloned().unwrap_or_default();
        let (Some(group), Some(prefix)) = (
            options.get("awslogs-group"),
            options.get("awslogs-stream-prefix"),
        ) else {
            skipped.push(name.to_string());
            continue;
        };
        sources.push(Source {
            region: options
                .get("awslogs-region")
                .cloned()
                .unwrap_or_else(|| region.to_string()),
            group: group.clone(),
            stream: format!("{prefix}/{name}/{id}"),
            label: format!("{id}/{name}"),
        });
    }
    (sources, skipped)
}

/// Prints the sources' events in time order (FilterLogEvents per log group, 100 streams a
/// call); with `follow`, keeps asking for newer ones.
async fn print_events(
    aws: &SdkConfig,
    sources: &BTreeSet<Source>,
    mut since: Option<i64>,
    prefixed: bool,
    follow: bool,
) -> Result<(), String> {
    let mut groups: BTreeMap<(String, String), Vec<&Source>> = BTreeMap::new();
    for source in sources {
        groups
            .entry((source.region.clone(), source.group.clone()))
            .or_default()
            .push(source);
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    loop {
        let mut events: Vec<(i64, String)> = Vec::new();
        for ((region, group), sources) in &groups {
            let config = aws_sdk_cloudwatchlogs::config::Builder::from(aws)
                .region(aws_config::Region::new(region.clone()))
                .build();
            let client = aws_sdk_cloudwatchlogs::Client::from_conf(config);
            let labels: BTreeMap<&str, &str> = sources
                .iter()
                .map(|s| (s.stream.as_str(), s.label.as_str()))
                .collect();
            for chunk in sources.chunks(100) {
                let streams = chunk.iter().map(|s| s.stream.clone()).collect();
                let mut pages = client
                    .filter_log_events()
                    .log_group_name(group)
                    .set_log_stream_names(Some(streams))
                    .set_start_time(since)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| logs_error(group, e))?;
                    for event in page.events() {
                        let id = event.event_id().unwrap_or_default().to_string();
                        if !seen.insert(id) {
                            continue;
                        }
                        let label = labels
                            .get(event.log_stream_name().unwrap_or_default())
                            .copied()
                            .unwrap_or_default();
                        let message = event.message().unwrap_or_default().trim_end();
                        let line = if prefixed {
                            format!("[{label}] {message}")
                        } else {
                            message.to_string()
                        };
                        events.push((event.timestamp().unwrap_or_default(), line));
                    }
                }
            }
        }
        events.sort_by_key(|(at, _)| *at);
        for (_, line) in &events {
            crate::outln!("{line}");
        }
        if !follow {
            return Ok(());
        }
        // From the newest event on (events of the same millisecond are told apart by ID).
        if let Some((at, _)) = events.last() {
            since = Some(*at);
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// "CloudWatch Logs refused FilterLogEvents on /ecs/web: ResourceNotFoundException: ...".
fn logs_error<E, R>(group: &str, error: aws_sdk_cloudwatchlogs::error::SdkError<E, R>) -> String
where
    E: aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match error.as_service_error() {
        Some(service) => format!(
            "CloudWatch Logs refused FilterLogEvents on {group}: {}: {}",
            service.code().unwrap_or("Error"),
            service.message().unwrap_or_default()
        ),
        None => format!("CloudWatch Logs could not be reached for {group}"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_sdk_ecs::types::{ContainerDefinition, LogConfiguration, LogDriver};

    use super::*;

    fn awslogs(options: &[(&str, &str)]) -> LogConfiguration {
        let options: HashMap<String, String> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .set_options(Some(options))
            .build()
            .unwrap()
    }

    #[test]
    fn streams_are_named_as_ecs_names_them() {
        let task = Task::builder()
            .task_arn("arn:aws:ecs:us-east-1:123456789012:task/apps/abc123")
            .build();
        let definition = TaskDefinition::builder()
            .container_definitions(
                ContainerDefinition::builder()
                    .name("web")
                    .log_configuration(awslogs(&[
                        ("awslogs-group", "/ecs/web"),
                        ("awslogs-stream-prefix", "ecs"),
                    ]))
                    .build(),
            )
            .container_definitions(
                ContainerDefinition::builder()
                    .name("proxy")
                    .log_configuration(awslogs(&[("awslogs-group", "/ecs/proxy")]))
                    .build(),
            )
            .container_definitions(ContainerDefinition::builder().name("quiet").build())
            .build();
        let (sources, skipped) = sources_of(&task, &definition, "us-east-1", None);
        assert_eq!(
            sources,
            [Source {
                region: "us-east-1".into(),
                group: "/ecs/web".into(),
                stream: "ecs/web/abc123".into(),
                label: "abc123/web".into(),
            }]
        );
        assert_eq!(skipped, ["proxy"]);
        let (only, _) = sources_of(&task, &definition, "us-east-1", Some("proxy"));
        assert!(only.is_empty());
    }
}

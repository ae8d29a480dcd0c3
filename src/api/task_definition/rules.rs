//! The admission rules (CEL) of EcsTaskDefinition.

use super::*;

// Kubernetes CEL has no variables in the versions we target, so the cpu/memory normalisation is
// spelled out in each rule; building the rules here keeps that readable and in one place.

/// ECS task cpu: CPU units ("1024") or vCPUs ("1 vCPU", ".25 vCPU").
pub(super) const CPU_FORMAT: &str = "^([0-9]+|[0-9]*[.]?[0-9]+ ?[vV][cC][pP][uU])$";
/// ECS task memory: MiB ("2048") or GB ("2 GB", "0.5GB").
pub(super) const MEMORY_FORMAT: &str = "^([0-9]+|[0-9]*[.]?[0-9]+ ?[gG][bB])$";

/// CEL: the task cpu in CPU units. Only valid where `self.cpu` matches CPU_FORMAT.
pub(super) const CEL_CPU_UNITS: &str = "(self.cpu.matches('^[0-9]+$') ? int(self.cpu) : int(double(self.cpu.lowerAscii().replace('vcpu', '').trim()) * 1024.0))";

/// CEL: the task memory in MiB. Only valid where `self.memory` matches MEMORY_FORMAT.
pub(super) const CEL_MEMORY_MIB: &str = "(self.memory.matches('^[0-9]+$') ? int(self.memory) : int(double(self.memory.lowerAscii().replace('gb', '').trim()) * 1024.0))";

/// CEL: the spec requires Fargate compatibility.
pub(super) const CEL_REQUIRES_FARGATE: &str =
    "has(self.requiresCompatibilities) && 'FARGATE' in self.requiresCompatibilities";

/// CEL: Fargate task whose cpu and memory are set and well-formed, so they can be converted.
pub(super) fn cel_fargate_sized() -> String {
    format!(
        "{CEL_REQUIRES_FARGATE} && has(self.cpu) && has(self.memory) && self.cpu.matches('{CPU_FORMAT}') && self.memory.matches('{MEMORY_FORMAT}')"
    )
}

/// Memory (MiB) Fargate accepts for one task cpu size.
pub(super) enum FargateMemory {
    OneOf(&'static [i64]),
    Steps { min: i64, max: i64, step: i64 },
}

/// The Fargate task sizes: cpu units and the memory allowed with them.
pub(super) const FARGATE_SIZES: [(i64, FargateMemory); 7] = [
    (256, FargateMemory::OneOf(&[512, 1024, 2048])),
    (512, FargateMemory::OneOf(&[1024, 2048, 3072, 4096])),
    (
        1024,
        FargateMemory::Steps {
            min: 2048,
            max: 8192,
            step: 1024,
        },
    ),
    (
        2048,
        FargateMemory::Steps {
            min: 4096,
            max: 16384,
            step: 1024,
        },
    ),
    (
        4096,
        FargateMemory::Steps {
            min: 8192,
            max: 30720,
            step: 1024,
        },
    ),
    (
        8192,
        FargateMemory::Steps {
            min: 16384,
            max: 61440,
            step: 4096,
        },
    ),
    (
        16384,
        FargateMemory::Steps {
            min: 32768,
            max: 122880,
            step: 8192,
        },
    ),
];

impl FargateMemory {
    fn cel_condition(&self, memory: &str) -> String {
        match self {
            FargateMemory::OneOf(values) => {
                let list: Vec<String> = values.iter().map(i64::to_string).collect();
                format!("{memory} in [{}]", list.join(", "))
            }
            FargateMemory::Steps { min, max, step } => {
                format!("{memory} >= {min} && {memory} <= {max} && {memory} % {step} == 0")
            }
        }
    }

    fn description(&self) -> String {
        match self {
            FargateMemory::OneOf(values) => {
                let (last, rest) = values
                    .split_last()
                    .expect("FARGATE_SIZES lists are not empty");
                let rest: Vec<String> = rest.iter().map(i64::to_string).collect();
                format!("{} or {last}", rest.join(", "))
            }
            FargateMemory::Steps { min, max, step } => format!("{min} to {max} in steps of {step}"),
        }
    }
}

pub(super) fn fargate_network_mode_rule() -> Rule {
    Rule::new(format!(
        "!({CEL_REQUIRES_FARGATE}) || has(self.networkMode) && self.networkMode == 'awsvpc'"
    ))
    .field_path(".networkMode")
    .message("requiresCompatibilities includes FARGATE, which only runs awsvpc tasks: set networkMode: awsvpc")
}

pub(super) fn fargate_size_required_rule() -> Rule {
    Rule::new(format!("!({CEL_REQUIRES_FARGATE}) || has(self.cpu) && has(self.memory)")).message(
        "requiresCompatibilities includes FARGATE, which needs task-level cpu and memory: set both, for example cpu: \"256\" and memory: \"512\"",
    )
}

pub(super) fn fargate_cpu_rule() -> Rule {
    let cpus: Vec<String> = FARGATE_SIZES
        .iter()
        .map(|(cpu, _)| cpu.to_string())
        .collect();
    Rule::new(format!("!({}) || {} in [{}]", cel_fargate_sized(), CEL_CPU_UNITS, cpus.join(", ")))
        .field_path(".cpu")
        .message("a Fargate task's cpu is 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units (.25, .5, 1, 2, 4, 8 or 16 vCPU)")
}

pub(super) fn fargate_memory_rule() -> Rule {
    let cpu = CEL_CPU_UNITS;
    let memory = CEL_MEMORY_MIB;
    // Nested conditionals: an unknown cpu passes here (fargate_cpu_rule reports it).
    let mut valid = "true".to_string();
    let mut allowed = "'(see cpu)'".to_string();
    for (units, memory_range) in FARGATE_SIZES.iter().rev() {
        valid = format!(
            "({cpu} == {units} ? ({}) : {valid})",
            memory_range.cel_condition(memory)
        );
        allowed = format!(
            "({cpu} == {units} ? '{}' : {allowed})",
            memory_range.description()
        );
    }
    Rule::new(format!("!({}) || {valid}", cel_fargate_sized()))
        .field_path(".memory")
        .message(Message::Expression(format!(
            "'a Fargate task with cpu ' + self.cpu + ' needs memory (MiB) of ' + {allowed} + ', not ' + self.memory"
        )))
}

/// Container `index`'s port mappings clash with no other mapping of the task. One rule per
/// container index: a single rule over all containers would compare up to 1000 mappings with
/// 1000 and exceed the apiserver's CEL cost budget; per container it stays well inside.
pub(super) fn unique_container_ports_rule(index: usize) -> Rule {
    let container = format!("self.containerDefinitions[{index}]");
    // A mapping without containerPort uses containerPortRange, which ECS checks itself. An
    // empty protocol is unset, so tcp.
    let same_port = "has(q.containerPort) && q.containerPort == p.containerPort && (has(q.protocol) && q.protocol != '' ? q.protocol : 'tcp') == (has(p.protocol) && p.protocol != '' ? p.protocol : 'tcp')";
    let clashes = format!(
        "{container}.portMappings.filter(q, {same_port}).size() > 1 || \
         self.containerDefinitions.filter(d, has(d.portMappings) && d.portMappings.exists(q, {same_port})).size() > 1"
    );
    Rule::new(format!(
        "size(self.containerDefinitions) <= {index} || !has({container}.portMappings) || \
         !{container}.portMappings.exists(p, has(p.containerPort) && ({clashes}))"
    ))
    .field_path(".containerDefinitions")
    // Only the name: the apiserver cannot bound the cost of string(int), so no port number.
    .message(Message::Expression(format!(
        "'container ' + {container}.name + ' maps a containerPort/protocol pair that is mapped again in the task (protocol defaults to tcp): map each pair only once'"
    )))
}

// Rules for what RegisterTaskDefinition refuses, so that a definition ECS would refuse is
// refused at apply time with the container's name, rather than after a round trip as a Stalled
// condition. Each names ECS's own words and where they come from; the emulator
// (e2e/ecs-emulator, shapes.validate_task_definition) refuses the same with those words.
//
// The messages name the container but not the numbers: the apiserver cannot bound the cost of
// string(int), and a container found with filter() loses its name's maxLength, so the name of
// the first offending container is picked by index, in nested conditionals.

/// CEL: the name of the first container for which `bad` holds, `bad` being an expression over
/// the container `$c`. Only valid where some container is bad.
pub(super) fn first_container_name(bad: &str) -> String {
    (0..MAX_CONTAINERS)
        .rev()
        .fold("''".to_string(), |otherwise, index| {
            let container = format!("self.containerDefinitions[{index}]");
            format!(
                "(size(self.containerDefinitions) > {index} && {} ? {container}.name : {otherwise})",
                bad.replace("$c", &container)
            )
        })
}

/// A spec rule: where `applies` holds, no container may be `bad` (an expression over `$c`);
/// the message is "container NAME " followed by `what` (a CEL string literal's content: no `'`).
pub(super) fn no_container_rule(applies: &str, bad: &str, field_path: &str, what: &str) -> Rule {
    Rule::new(format!(
        "!({applies}) || !self.containerDefinitions.exists(c, {})",
        bad.replace("$c", "c")
    ))
    .field_path(field_path)
    .message(Message::Expression(format!(
        "'container ' + {} + ' {what}'",
        first_container_name(bad)
    )))
}

/// ECS: "When networkMode=awsvpc, the host ports and container ports in port mappings must
/// match." (ClientException; pulumi/pulumi-awsx#935; task definition parameters, portMappings:
/// with awsvpc "the hostPort can either be left blank or set to the same value as the
/// containerPort").
pub(super) fn awsvpc_host_port_rule() -> Rule {
    no_container_rule(
        "has(self.networkMode) && self.networkMode == 'awsvpc'",
        "has($c.portMappings) && $c.portMappings.exists(p, has(p.hostPort) && has(p.containerPort) && p.hostPort != p.containerPort)",
        ".containerDefinitions",
        "maps a hostPort to a different containerPort: with networkMode awsvpc each hostPort must equal its containerPort (or be left out)",
    )
}

/// ECS: "Invalid setting for container 'NAME'. At least one of 'memory' or 'memoryReservation'
/// must be specified." when the task sets no memory (ClientException; sil-org/ecs-deploy#59;
/// task definition parameters, memory: a container needs memory or memoryReservation unless
/// the task sets memory).
pub(super) fn container_memory_rule() -> Rule {
    no_container_rule(
        "!has(self.memory)",
        "!has($c.memory) && !has($c.memoryReservation)",
        ".containerDefinitions",
        "sets neither memory nor memoryReservation, and the task sets no memory: set one of them",
    )
}

/// Fargate runs no privileged containers (task definition parameters, privileged: "This
/// parameter is not supported for Windows containers or tasks run on Fargate";
/// aws/containers-roadmap#1000). ECS's own message for it was not found.
pub(super) fn fargate_privileged_rule() -> Rule {
    no_container_rule(
        CEL_REQUIRES_FARGATE,
        "has($c.privileged) && $c.privileged",
        ".containerDefinitions",
        "is privileged, which Fargate does not allow: remove privileged, or FARGATE from requiresCompatibilities",
    )
}

/// ECS: "Fargate requires task definition to have execution role ARN to support log driver
/// awslogs." (ClientException; virtual-kubelet/virtual-kubelet#193; task definition
/// parameters, executionRoleArn).
pub(super) fn fargate_awslogs_execution_role_rule() -> Rule {
    no_container_rule(
        &format!(
            "{CEL_REQUIRES_FARGATE} && (!has(self.executionRoleArn) || self.executionRoleArn == '')"
        ),
        "has($c.logConfiguration) && $c.logConfiguration.logDriver == 'awslogs'",
        ".executionRoleArn",
        "logs with awslogs, which on Fargate needs an executionRoleArn: set one that may write to CloudWatch Logs",
    )
}

/// ECS: "Task definition doesn't have any essential container." (ClientException;
/// eagletmt/hako PR #68; task definition parameters, essential: "All tasks must have at least
/// one essential container").
pub(super) fn essential_container_rule() -> Rule {
    Rule::new(
        "size(self.containerDefinitions) == 0 || self.containerDefinitions.exists(c, !has(c.essential) || c.essential)",
    )
    .field_path(".containerDefinitions")
    .message("no container is essential, and ECS needs at least one: set essential: true on the main container (it defaults to true)")
}

/// ECS: "Invalid setting for container 'NAME'. 'memory' must be greater than or equal to
/// 'memoryReservation'." (e2e/ecs-emulator/FACTS.md section 8; task definition parameters,
/// memoryReservation: memory "must be greater than memoryReservation" when both are set).
pub(super) fn memory_reservation_rule() -> Rule {
    Rule::new("!has(self.memory) || !has(self.memoryReservation) || self.memoryReservation <= self.memory")
        .field_path(".memoryReservation")
        .message(Message::Expression(
            "'container ' + self.name + ' reserves more memory (memoryReservation) than its limit (memory): memoryReservation must not exceed memory'".into(),
        ))
}

/// Health check bounds (seconds; retries: a count), from the task definition parameters,
/// healthCheck: interval "between 5 and 300 seconds", timeout "between 2 and 60 seconds",
/// retries "between 1 and 10", startPeriod "between 0 and 300 seconds" (also
/// AWS::ECS::TaskDefinition HealthCheck).
pub(super) const HEALTH_CHECK_INTERVAL: (i32, i32) = (5, 300);
pub(super) const HEALTH_CHECK_TIMEOUT: (i32, i32) = (2, 60);
pub(super) const HEALTH_CHECK_RETRIES: (i32, i32) = (1, 10);
pub(super) const HEALTH_CHECK_START_PERIOD: (i32, i32) = (0, 300);

pub(super) fn health_check_range_rule(field: &str, (min, max): (i32, i32)) -> Rule {
    let value = format!("self.healthCheck.{field}");
    Rule::new(format!(
        "!has(self.healthCheck) || !has({value}) || {value} >= {min} && {value} <= {max}"
    ))
    .field_path(format!(".healthCheck.{field}"))
    .message(Message::Expression(format!(
        "'container ' + self.name + ' has a healthCheck.{field} ECS refuses: it accepts {min} to {max}'"
    )))
}

/// The log drivers ECS knows (ECS API reference, LogConfiguration.logDriver: "awslogs, fluentd,
/// gelf, json-file, journald, logentries, syslog, splunk, and awsfirelens"); ECS refuses others.
pub const LOG_DRIVERS: [&str; 9] = [
    "awslogs",
    "awsfirelens",
    "fluentd",
    "gelf",
    "journald",
    "json-file",
    "logentries",
    "splunk",
    "syslog",
];

/// The log drivers Fargate takes (ECS API reference, LogConfiguration.logDriver: "For tasks on
/// Fargate, the supported log drivers are awslogs, splunk, and awsfirelens"; ECS answers others
/// with "<driver> is not a valid log driver. Must be one of [awslogs,splunk,awsfirelens]",
/// kayac/ecspresso#364).
pub const FARGATE_LOG_DRIVERS: [&str; 3] = ["awslogs", "splunk", "awsfirelens"];

pub(super) fn fargate_log_driver_rule() -> Rule {
    let drivers: Vec<String> = FARGATE_LOG_DRIVERS
        .iter()
        .map(|d| format!("'{d}'"))
        .collect();
    no_container_rule(
        CEL_REQUIRES_FARGATE,
        &format!(
            "has($c.logConfiguration) && !($c.logConfiguration.logDriver in [{}])",
            drivers.join(", ")
        ),
        ".containerDefinitions",
        &format!(
            "uses a log driver Fargate does not take: use {}",
            FARGATE_LOG_DRIVERS.join(", ")
        ),
    )
}

pub(super) fn log_driver_rule() -> Rule {
    let drivers: Vec<String> = LOG_DRIVERS.iter().map(|d| format!("'{d}'")).collect();
    Rule::new(format!(
        "!has(self.logConfiguration) || self.logConfiguration.logDriver in [{}]",
        drivers.join(", ")
    ))
    .field_path(".logConfiguration.logDriver")
    .message(Message::Expression(format!(
        "'container ' + self.name + ' uses the log driver ' + self.logConfiguration.logDriver + ', which ECS does not know: use one of {}'",
        LOG_DRIVERS.join(", ")
    )))
}

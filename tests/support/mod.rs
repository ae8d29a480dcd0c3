//! The one way every integration and end-to-end test reaches Kubernetes and ECS.
//!
//! Include it from each `tests/*.rs` with `mod support;`. The first call to [`env`] in a test
//! binary runs `e2e/local-env up` (which builds the control plane the first time, starts it once,
//! and takes a lock so that parallel test binaries share one environment), then reads
//! `e2e/local-env env`. Nothing here touches the process environment: clients are built from the
//! parsed values.
//!
//! Tests isolate themselves so they run in parallel: a fresh namespace per test
//! ([`test_namespace`]) and unique ECS names ([`unique_name`]).
#![allow(dead_code)]

use std::{
    collections::HashMap,
    hash::{BuildHasher, Hasher},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use k8s_openapi::{
    api::core::v1::Namespace,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client, Config, ResourceExt,
    api::{ObjectMeta, Patch, PatchParams, PostParams},
    config::{KubeConfigOptions, Kubeconfig},
    runtime::wait::{await_condition, conditions},
};

/// Field manager the tests use for what they apply themselves (CRDs, fixtures).
pub const TEST_FIELD_MANAGER: &str = "ecs-operator-tests";
/// Label on every namespace a test creates, so leftovers are easy to find.
pub const TEST_NAMESPACE_LABEL: &str = "ecs.operator.dev/test";
/// How long helpers wait for the API server to settle something (CRD established, ...).
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The running local environment, as `e2e/local-env env` describes it.
#[derive(Debug, Clone)]
pub struct LocalEnv {
    /// Admin kubeconfig (system:masters).
    pub kubeconfig: PathBuf,
    /// Kubeconfig of an authenticated identity without any RBAC grant.
    pub unprivileged_kubeconfig: PathBuf,
    /// The ECS emulator's endpoint, for `AWS_ENDPOINT_URL_ECS` (its admin API is under
    /// `/_emulator/` there: see [`emulator_admin`]).
    pub ecs_endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// How many times faster than ECS the emulator's control plane runs.
    pub emulator_speed: f64,
    /// Kubernetes version the control plane was built at (for example `v1.37.1`).
    pub kubernetes_version: String,
    /// Folder of the built kube-apiserver, kube-controller-manager and etcd binaries.
    pub k8s_bin: PathBuf,
    /// Every exported variable, for a test that starts the operator as a child process
    /// (`Command::envs(&env.vars)`).
    pub vars: HashMap<String, String>,
}

/// Repository root (where `Cargo.toml` is).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn local_env_script() -> PathBuf {
    repo_root().join("e2e").join("local-env")
}

/// Starts the local environment once per test binary (idempotent) and returns its description.
///
/// Blocking on purpose: the first caller runs `e2e/local-env up` (possibly a long first build
/// whose progress goes to the terminal, if any: `make integration` runs `up` before the tests so
/// that its progress shows anyway), the others wait for it.
pub fn env() -> &'static LocalEnv {
    // A failure is remembered too: the other tests of the binary fail at once with the same
    // message instead of each trying `up` (and maybe a long build) again.
    static ENV: OnceLock<Result<LocalEnv, String>> = OnceLock::new();
    match ENV.get_or_init(start_local_env) {
        Ok(env) => env,
        Err(message) => panic!("{message}"),
    }
}

fn start_local_env() -> Result<LocalEnv, String> {
    install_crypto_provider();
    let script = local_env_script();
    // libtest captures what a test's child processes print, and the first `up` may build for a
    // quarter of an hour: show its progress on the terminal when there is one.
    let progress = || match std::fs::OpenOptions::new().write(true).open("/dev/tty") {
        Ok(tty) => Stdio::from(tty),
        Err(_) => Stdio::inherit(),
    };
    let status = Command::new(&script)
        .arg("up")
        .stdin(Stdio::null())
        .stdout(progress())
        .stderr(progress())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !status.success() {
        return Err(format!(
            "`e2e/local-env up` failed ({status}); see its output above"
        ));
    }
    let out = Command::new(&script)
        .arg("env")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "`e2e/local-env env` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(parse_env(&String::from_utf8_lossy(&out.stdout)))
}

/// Parses the `export NAME='value'` lines that `e2e/local-env env` prints.
pub fn parse_env(text: &str) -> LocalEnv {
    let vars: HashMap<String, String> = text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("export "))
        .filter_map(|assignment| assignment.split_once('='))
        .map(|(name, value)| {
            let value = value.trim();
            let value = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(value);
            (name.trim().to_owned(), value.to_owned())
        })
        .collect();
    let get = |name: &str| -> String {
        vars.get(name)
            .cloned()
            .unwrap_or_else(|| panic!("`e2e/local-env env` printed no {name}"))
    };
    LocalEnv {
        kubeconfig: get("KUBECONFIG").into(),
        unprivileged_kubeconfig: get("ECS_OPERATOR_UNPRIVILEGED_KUBECONFIG").into(),
        ecs_endpoint: get("AWS_ENDPOINT_URL_ECS"),
        region: get("AWS_REGION"),
        access_key_id: get("AWS_ACCESS_KEY_ID"),
        secret_access_key: get("AWS_SECRET_ACCESS_KEY"),
        emulator_speed: get("ECS_EMULATOR_SPEED")
            .parse()
            .expect("ECS_EMULATOR_SPEED is a number"),
        kubernetes_version: get("ECS_OPERATOR_K8S_VERSION"),
        k8s_bin: get("ECS_OPERATOR_K8S_BIN").into(),
        vars,
    }
}

/// rustls needs one process-wide crypto provider before the first TLS client is built.
pub fn install_crypto_provider() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

async fn client_from_kubeconfig(path: &Path) -> Client {
    install_crypto_provider();
    let kubeconfig = Kubeconfig::read_from(path)
        .unwrap_or_else(|e| panic!("cannot read kubeconfig {}: {e}", path.display()));
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("invalid kubeconfig {}: {e}", path.display()));
    Client::try_from(config).expect("kube client")
}

/// A client with the admin identity (system:masters).
pub async fn kube_client() -> Client {
    client_from_kubeconfig(&env().kubeconfig).await
}

/// A Kubernetes control plane (and emulator) of a test's own, beside the shared one: for what
/// would disturb other tests (restarting the API server) or needs a second cluster identity. Its
/// state lives in `e2e/.state-<name>`; it shares the built binaries and the emulator's
/// virtualenv. Stopped when dropped.
pub struct OwnEnv {
    pub env: LocalEnv,
    state_dir: PathBuf,
}

impl OwnEnv {
    pub fn start(name: &str) -> OwnEnv {
        let shared = env();
        let state_dir = repo_root().join("e2e").join(format!(".state-{name}"));
        let venv = std::fs::read_dir(repo_root().join("e2e/.state"))
            .expect("the shared environment's state")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("venv-moto-"))
            })
            .expect("the shared environment's virtualenv");
        let run = |command: &str| {
            Command::new(local_env_script())
                .arg(command)
                .env("ECS_OPERATOR_STATE_DIR", &state_dir)
                .env("ECS_OPERATOR_VENV", &venv)
                .env("ECS_EMULATOR_SPEED", shared.emulator_speed.to_string())
                .stdin(Stdio::null())
                .output()
                .expect("e2e/local-env runs")
        };
        let up = run("up");
        assert!(
            up.status.success(),
            "{name}: e2e/local-env up: {}",
            String::from_utf8_lossy(&up.stderr)
        );
        let printed = run("env");
        OwnEnv {
            env: parse_env(&String::from_utf8_lossy(&printed.stdout)),
            state_dir,
        }
    }

    /// Runs `e2e/local-env <args>` on this environment (`restart kube-apiserver`, ...).
    pub fn local_env(&self, args: &[&str]) {
        let output = Command::new(local_env_script())
            .args(args)
            .env("ECS_OPERATOR_STATE_DIR", &self.state_dir)
            .stdin(Stdio::null())
            .output()
            .expect("e2e/local-env runs");
        assert!(
            output.status.success(),
            "e2e/local-env {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub async fn kube_client(&self) -> Client {
        client_from_kubeconfig(&self.env.kubeconfig).await
    }
}

impl Drop for OwnEnv {
    fn drop(&mut self) {
        let _ = Command::new(local_env_script())
            .arg("down")
            .env("ECS_OPERATOR_STATE_DIR", &self.state_dir)
            .stdin(Stdio::null())
            .output();
    }
}

/// A client with an authenticated identity (`e2e-unprivileged`) that RBAC grants nothing beyond
/// what every authenticated user gets (discovery, self reviews).
pub async fn unprivileged_kube_client() -> Client {
    client_from_kubeconfig(&env().unprivileged_kubeconfig).await
}

fn credentials(env: &LocalEnv) -> aws_sdk_ecs::config::Credentials {
    aws_sdk_ecs::config::Credentials::new(
        env.access_key_id.clone(),
        env.secret_access_key.clone(),
        None,
        None,
        "ecs-operator-local-env",
    )
}

/// An AWS SDK configuration pointing at the ECS emulator, with static test credentials: what a
/// test hands to the operator under test.
pub async fn sdk_config() -> aws_config::SdkConfig {
    sdk_config_in(&env().region).await
}

/// [`sdk_config`] for another region (the emulator keeps regions apart, as ECS does).
pub async fn sdk_config_in(region: &str) -> aws_config::SdkConfig {
    sdk_config_for(region, &env().access_key_id).await
}

/// [`sdk_config`] signing with its own access key: the emulator counts calls, and applies faults
/// and throttling, per access key (one account's state, one caller's view).
pub async fn sdk_config_for(region: &str, access_key_id: &str) -> aws_config::SdkConfig {
    let env = env();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(env.ecs_endpoint.clone())
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            access_key_id,
            env.secret_access_key.clone(),
            None,
            None,
            "ecs-operator-local-env",
        ))
        .load()
        .await
}

/// Calls the ECS emulator's admin API (`/_emulator/<path>`, JSON in and out; see the README's
/// "ECS emulator"). Panics with the emulator's message when it refuses.
pub fn emulator_admin(
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    emulator_admin_at(&env().ecs_endpoint, method, path, body)
}

/// [`emulator_admin`] on the emulator at `endpoint` (an [`OwnEnv`]'s).
pub fn emulator_admin_at(
    endpoint: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let url = format!("{endpoint}/_emulator/{path}");
    let mut command = Command::new("curl");
    command.args(["-sS", "--fail-with-body", "-X", method, &url]);
    if let Some(body) = body {
        command.args([
            "-H",
            "Content-Type: application/json",
            "-d",
            &body.to_string(),
        ]);
    }
    let output = command.output().expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "emulator admin {method} {path}: {text}"
    );
    serde_json::from_str(&text).expect("the emulator answers JSON")
}

/// ECS calls the emulator received from `access_key_id`, by operation.
pub fn emulator_calls(access_key_id: &str) -> HashMap<String, u64> {
    let answer = emulator_admin("GET", &format!("calls?accessKey={access_key_id}"), None);
    serde_json::from_value(answer["calls"].clone()).expect("calls by operation")
}

/// An ECS client talking to the emulator, for tests to look at (or prepare) what is in "ECS".
pub fn ecs_client() -> aws_sdk_ecs::Client {
    ecs_client_in(&env().region)
}

/// [`ecs_client`] for another region.
pub fn ecs_client_in(region: &str) -> aws_sdk_ecs::Client {
    let env = env();
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version(aws_sdk_ecs::config::BehaviorVersion::latest())
        .region(aws_sdk_ecs::config::Region::new(region.to_string()))
        .endpoint_url(env.ecs_endpoint.clone())
        .credentials_provider(credentials(env))
        .build();
    aws_sdk_ecs::Client::from_conf(config)
}

/// A short name, lowercase and DNS-label safe, unique across the tests of this run, parallel test
/// binaries and earlier runs against the same environment: `<prefix>-<8 base-36 chars>`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static SEED: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    let mut hasher = SEED.get_or_init(Default::default).build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    let mut n = hasher.finish();
    let mut suffix = String::with_capacity(8);
    for _ in 0..8 {
        suffix.push(char::from_digit((n % 36) as u32, 36).expect("base 36 digit"));
        n /= 36;
    }
    let mut prefix: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    prefix = prefix.trim_matches('-').to_owned();
    if prefix.is_empty() || !prefix.starts_with(|c: char| c.is_ascii_lowercase()) {
        prefix.insert(0, 't');
    }
    format!("{prefix}-{suffix}")
}

/// Creates a fresh namespace named after `prefix` and returns its name.
pub async fn test_namespace(client: &Client, prefix: &str) -> String {
    let name = unique_name(prefix);
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some([(TEST_NAMESPACE_LABEL.to_owned(), "true".to_owned())].into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap_or_else(|e| panic!("cannot create namespace {name}: {e}"));
    name
}

/// Server-side-applies one CRD and waits until the API server reports it Established.
pub async fn install_crd(client: &Client, crd: &CustomResourceDefinition) {
    let api = Api::<CustomResourceDefinition>::all(client.clone());
    let name = crd.name_any();
    api.patch(
        &name,
        &PatchParams::apply(TEST_FIELD_MANAGER).force(),
        &Patch::Apply(crd),
    )
    .await
    .unwrap_or_else(|e| panic!("cannot apply CRD {name}: {e}"));
    tokio::time::timeout(
        SETTLE_TIMEOUT,
        await_condition(api, &name, conditions::is_crd_established()),
    )
    .await
    .unwrap_or_else(|_| panic!("CRD {name} not Established within {SETTLE_TIMEOUT:?}"))
    .unwrap_or_else(|e| panic!("watching CRD {name}: {e}"));
}

/// Installs the operator's CRDs (`ecs_operator::api::crds()`) and waits until each is Established.
/// Safe to call from every test: applying the same CRDs again is a no-op.
pub async fn install_crds(client: &Client) {
    for crd in ecs_operator::api::crds() {
        install_crd(client, &crd).await;
    }
}

/// Runs `e2e/tools <what>` (which builds helm or kubectl once, its progress on stderr) and
/// returns the path it printed.
pub fn tool(what: &str) -> String {
    let script = repo_root().join("e2e").join("tools");
    let out = Command::new(&script)
        .arg(what)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "`e2e/tools {what}` failed ({})",
        out.status
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// kubectl: `$KUBECTL` when set, else the one `e2e/tools kubectl` builds at the local
/// environment's Kubernetes version (so that client and server match).
pub fn kubectl_bin() -> &'static Path {
    static KUBECTL: OnceLock<PathBuf> = OnceLock::new();
    KUBECTL.get_or_init(|| match std::env::var_os("KUBECTL") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(tool("kubectl")),
    })
}

/// The ECS operations that change something: what "no writes" counts.
pub const ECS_WRITES: &[&str] = &[
    "CreateService",
    "UpdateService",
    "DeleteService",
    "RegisterTaskDefinition",
    "DeregisterTaskDefinition",
    "DeleteTaskDefinitions",
    "CreateCluster",
    "UpdateCluster",
    "PutClusterCapacityProviders",
    "DeleteCluster",
    "CreateCapacityProvider",
    "UpdateCapacityProvider",
    "DeleteCapacityProvider",
    "TagResource",
    "UntagResource",
    "ContinueServiceDeployment",
    "StopServiceDeployment",
];

/// The ECS writes (ECS_WRITES) `access_key` made, by operation.
pub fn ecs_writes(access_key: &str) -> std::collections::BTreeMap<String, u64> {
    emulator_calls(access_key)
        .into_iter()
        .filter(|(op, _)| ECS_WRITES.contains(&op.as_str()))
        .collect()
}

/// ECS service `service` of `cluster` as ECS describes it now.
pub async fn describe_service(cluster: &str, service: &str) -> aws_sdk_ecs::types::Service {
    ecs_client()
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .expect("describe services")
        .services()[0]
        .clone()
}

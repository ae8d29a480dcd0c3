//! The Helm chart (`charts/ecs-operator`): lint, schema, CRDs, rendering, server-side dry runs
//! against the local environment's API server, the pod against the "restricted" Pod Security
//! Standard, and its RBAC proven sufficient (the operator's own calls succeed under the chart's
//! ServiceAccount) and narrow (anything else is denied).
//!
//! helm and kubectl are built from their Go modules by `e2e/tools helm` / `e2e/tools kubectl`
//! (cached by version; `$KUBECTL` overrides the latter).
//!
//! [`OperatorIdentity`] is the reusable piece: it applies the chart's ServiceAccount and RBAC for
//! real and hands out a client (and a kubeconfig file, for a child process) authenticated as that
//! ServiceAccount, so that a test can run the whole operator under the chart's identity.

mod support;

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Debug,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::OnceLock,
};

use ecs_operator::api::{
    EcsCapacityProvider, EcsCluster, EcsScheduledTask, EcsService, EcsTask, EcsTaskDefinition,
    FINALIZER,
};
use k8s_openapi::{
    NamespaceResourceScope,
    api::{
        authentication::v1::{TokenRequest, TokenRequestSpec},
        coordination::v1::Lease,
        core::v1::{ConfigMap, Namespace, Pod, Secret, ServiceAccount},
        events::v1::Event as K8sEvent,
    },
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client, Config, Resource, ResourceExt,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchParams},
    config::{KubeConfigOptions, Kubeconfig},
    runtime::events::{Event, EventType, Recorder, Reporter},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

// --- helm, kubectl and rendering -----------------------------------------------------------------

/// The chart, relative to the repository root.
const CHART: &str = "charts/ecs-operator";

fn chart_dir() -> PathBuf {
    support::repo_root().join(CHART)
}

/// helm, built once (per machine, cached by version) by `e2e/tools helm`.
pub fn helm() -> &'static Path {
    static HELM: OnceLock<PathBuf> = OnceLock::new();
    HELM.get_or_init(|| {
        let out = support::tool("helm");
        assert!(out.ends_with("/helm"), "`e2e/tools helm` printed {out:?}");
        PathBuf::from(out)
    })
}

/// What a command did.
#[derive(Debug)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    fn text(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

fn run(command: &mut Command, stdin: Option<&str>) -> Output {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    // Written from another thread, so that a child that answers before it has read everything
    // cannot block on a full stdout pipe while we block on its full stdin pipe.
    let writer = stdin.map(|input| {
        let mut pipe = child.stdin.take().expect("stdin piped");
        let input = input.to_owned();
        std::thread::spawn(move || pipe.write_all(input.as_bytes()))
    });
    let out = child.wait_with_output().expect("wait for the command");
    if let Some(writer) = writer {
        writer.join().expect("stdin writer").expect("write stdin");
    }
    Output {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fresh folder for this test's files (values files, kubeconfigs), under cargo's target dir.
fn scratch_dir(prefix: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("helm-tests")
        .join(support::unique_name(prefix));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Writes `values` as a values file (JSON is YAML) and returns its path.
fn values_file(values: &Value) -> PathBuf {
    let path = scratch_dir("values").join("values.json");
    std::fs::write(&path, serde_json::to_vec_pretty(values).unwrap()).expect("write values file");
    path
}

/// Runs helm with `args`.
pub fn helm_cmd(args: &[&str]) -> Output {
    run(Command::new(helm()).args(args), None)
}

/// `helm template <release> <chart> --namespace <namespace> -f <values>`; panics when it fails.
pub fn helm_template(release: &str, namespace: &str, values: &Value, include_crds: bool) -> String {
    let file = values_file(values);
    let chart = chart_dir();
    let mut args = vec![
        "template",
        release,
        chart.to_str().unwrap(),
        "--namespace",
        namespace,
        "-f",
        file.to_str().unwrap(),
    ];
    if include_crds {
        args.push("--include-crds");
    }
    let out = helm_cmd(&args);
    assert!(
        out.success,
        "helm template failed with {values}\n{}",
        out.text()
    );
    out.stdout
}

/// The documents of a YAML stream (empty ones dropped).
pub fn documents(yaml: &str) -> Vec<Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .filter(|doc| !doc.is_null())
        .collect()
}

/// The rendered chart as documents.
pub fn render(release: &str, namespace: &str, values: &Value) -> Vec<Value> {
    documents(&helm_template(release, namespace, values, false))
}

fn to_yaml_stream(docs: &[&Value]) -> String {
    docs.iter()
        .map(|doc| format!("---\n{}", serde_yaml::to_string(doc).expect("YAML")))
        .collect()
}

fn kind_of(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or_default()
}

fn name_of(doc: &Value) -> &str {
    doc["metadata"]["name"].as_str().unwrap_or_default()
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| kind_of(d) == kind).collect()
}

fn one<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found = of_kind(docs, kind);
    assert_eq!(found.len(), 1, "expected one {kind}, got {}", found.len());
    found[0]
}

/// The operator container of the rendered Deployment.
fn container(docs: &[Value]) -> &Value {
    &one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
}

/// The value of an environment variable of the operator container (None when not set).
fn env_var<'a>(docs: &'a [Value], name: &str) -> Option<&'a Value> {
    container(docs)["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == name)
}

fn env_value(docs: &[Value], name: &str) -> Option<String> {
    env_var(docs, name)
        .and_then(|e| e["value"].as_str())
        .map(str::to_owned)
}

/// kubectl with the admin kubeconfig of the local environment.
pub fn kubectl(args: &[&str], stdin: Option<&str>) -> Output {
    let kubeconfig = support::env().kubeconfig.clone();
    run(
        Command::new(support::kubectl_bin())
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args),
        stdin,
    )
}

/// `kubectl apply --server-side --dry-run=server` of a YAML stream; panics with kubectl's output
/// when the API server refuses any object.
fn server_side_dry_run(yaml: &str) -> String {
    let out = kubectl(
        &[
            "apply",
            "--server-side",
            "--dry-run=server",
            "--force-conflicts",
            "--field-manager",
            support::TEST_FIELD_MANAGER,
            "--validate=strict",
            "-f",
            "-",
        ],
        Some(yaml),
    );
    assert!(
        out.success,
        "server-side dry run refused the chart:\n{}",
        out.text()
    );
    assert!(
        !out.stderr.to_lowercase().contains("warning"),
        "server-side dry run warned:\n{}",
        out.text()
    );
    out.stdout
}

// --- the operator's identity as the chart grants it -----------------------------------------------

/// The chart's ServiceAccount and RBAC, applied for real, and a token for that ServiceAccount.
///
/// `install` renders the chart with the given values into `namespace` (the release namespace:
/// ServiceAccount, leader election Role, metrics Service...), applies the ServiceAccount and every
/// (Cluster)Role/(Cluster)RoleBinding that binds to it, and requests a one-hour token. Cluster-scoped
/// objects (named after the unique release) are deleted on drop; namespaced ones go with the
/// test namespace.
///
/// To run the operator under this identity: in-process with `identity.client().await` in place of
/// the admin client, or as a child process with `KUBECONFIG=identity.kubeconfig`; pass
/// `LEASE_NAMESPACE=identity.namespace` and `LEASE_NAME=identity.lease_name`, and with
/// `watchNamespaces` in the values, the same namespaces as `--namespace`.
pub struct OperatorIdentity {
    /// Helm release name (unique per call).
    pub release: String,
    /// Release namespace: where the ServiceAccount and the leader-election Lease live.
    pub namespace: String,
    pub service_account: String,
    /// The Lease the chart lets the operator use.
    pub lease_name: String,
    /// A kubeconfig (the local environment's API server, the ServiceAccount's bearer token).
    pub kubeconfig: PathBuf,
    /// The rendered chart, for assertions.
    pub documents: Vec<Value>,
    cluster_scoped: Vec<String>,
}

impl OperatorIdentity {
    pub async fn install(namespace: &str, values: &Value) -> OperatorIdentity {
        let admin = support::kube_client().await;
        let release = support::unique_name("ecs-op");
        let documents = render(&release, namespace, values);

        let service_account = one(&documents, "ServiceAccount");
        let sa_name = name_of(service_account).to_owned();
        let bindings: Vec<&Value> = documents
            .iter()
            .filter(|d| matches!(kind_of(d), "RoleBinding" | "ClusterRoleBinding"))
            .filter(|d| {
                d["subjects"].as_array().is_some_and(|subjects| {
                    subjects.iter().any(|s| {
                        s["kind"] == "ServiceAccount"
                            && s["name"] == sa_name.as_str()
                            && s["namespace"] == namespace
                    })
                })
            })
            .collect();
        assert!(
            !bindings.is_empty(),
            "the chart binds nothing to its ServiceAccount"
        );
        let roles: Vec<&Value> = documents
            .iter()
            .filter(|role| {
                bindings.iter().any(|b| {
                    b["roleRef"]["kind"] == role["kind"]
                        && b["roleRef"]["name"] == role["metadata"]["name"]
                        && (kind_of(role) == "ClusterRole"
                            || b["metadata"]["namespace"] == role["metadata"]["namespace"])
                })
            })
            .collect();
        let mut objects = vec![service_account];
        objects.extend(roles.iter().copied());
        objects.extend(bindings.iter().copied());
        let cluster_scoped = objects
            .iter()
            .filter(|d| kind_of(d).starts_with("Cluster"))
            .map(|d| format!("{}/{}", kind_of(d).to_lowercase(), name_of(d)))
            .collect();
        // From here on, a failure still deletes the cluster-scoped objects (on drop).
        let mut identity = OperatorIdentity {
            release,
            namespace: namespace.to_owned(),
            service_account: sa_name.clone(),
            lease_name: env_value(&documents, "LEASE_NAME")
                .unwrap_or_else(|| "ecs-operator".into()),
            kubeconfig: PathBuf::new(),
            documents: Vec::new(),
            cluster_scoped,
        };

        let out = kubectl(
            &[
                "apply",
                "--server-side",
                "--field-manager",
                support::TEST_FIELD_MANAGER,
                "-f",
                "-",
            ],
            Some(&to_yaml_stream(&objects)),
        );
        assert!(
            out.success,
            "applying the chart's RBAC failed:\n{}",
            out.text()
        );

        let token = service_account_token(&admin, namespace, &sa_name).await;
        identity.kubeconfig = write_token_kubeconfig(
            &token,
            &format!("system:serviceaccount:{namespace}:{sa_name}"),
        );
        identity.documents = documents;
        identity
    }

    /// A client authenticated as the ServiceAccount (a new one per call: clients belong to the
    /// runtime that made them).
    pub async fn client(&self) -> Client {
        client_from_kubeconfig(&self.kubeconfig).await
    }

    /// The environment the chart gives the operator container, for `ecs-operator run` as a
    /// child process under this identity: the rendered variables, the downward API ones filled
    /// in as the kubelet would (POD_NAME = `pod_name`, LEASE_NAMESPACE = the release namespace),
    /// KUBECONFIG = the ServiceAccount's kubeconfig, and ADMIN_ADDRESS on a free loopback port
    /// (`127.0.0.1:0`; override it to probe /readyz). Add the AWS variables of `support::env()`.
    pub fn operator_env(&self, pod_name: &str) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = container(&self.documents)["env"]
            .as_array()
            .expect("env")
            .iter()
            .map(|var| {
                let name = var["name"].as_str().unwrap().to_owned();
                let value = match name.as_str() {
                    "POD_NAME" => pod_name.to_owned(),
                    "LEASE_NAMESPACE" => self.namespace.clone(),
                    "ADMIN_ADDRESS" => "127.0.0.1:0".to_owned(),
                    _ => var["value"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{name} has no plain value"))
                        .to_owned(),
                };
                (name, value)
            })
            .collect();
        vars.push((
            "KUBECONFIG".to_owned(),
            self.kubeconfig.to_string_lossy().into_owned(),
        ));
        vars
    }
}

impl Drop for OperatorIdentity {
    fn drop(&mut self) {
        if self.cluster_scoped.is_empty() {
            return;
        }
        let mut args = vec!["delete", "--ignore-not-found", "--wait=false"];
        args.extend(self.cluster_scoped.iter().map(String::as_str));
        let out = kubectl(&args, None);
        if !out.success {
            eprintln!(
                "cleanup of {:?} failed:\n{}",
                self.cluster_scoped,
                out.text()
            );
        }
    }
}

/// A one-hour token of a ServiceAccount (TokenRequest), as the kubelet would mount it.
pub async fn service_account_token(admin: &Client, namespace: &str, name: &str) -> String {
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(3600),
            ..TokenRequestSpec::default()
        }),
        ..TokenRequest::default()
    };
    let response = Api::<ServiceAccount>::namespaced(admin.clone(), namespace)
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .unwrap_or_else(|e| panic!("TokenRequest for {namespace}/{name}: {e}"));
    response
        .status
        .and_then(|status| status.token)
        .expect("TokenRequest returned a token")
}

/// Writes a kubeconfig that reaches the local environment's API server (the admin kubeconfig's
/// cluster: address and CA) with a bearer token, and returns its path.
pub fn write_token_kubeconfig(token: &str, user: &str) -> PathBuf {
    let admin = Kubeconfig::read_from(&support::env().kubeconfig).expect("admin kubeconfig");
    let context_name = admin.current_context.clone().expect("current context");
    let context = admin
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.clone())
        .expect("current context entry");
    let cluster = admin
        .clusters
        .iter()
        .find(|c| c.name == context.cluster)
        .expect("cluster of the current context");
    let kubeconfig = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [serde_json::to_value(cluster).expect("cluster")],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": user, "context": {"cluster": cluster.name, "user": user}}],
        "current-context": user,
    });
    let path = scratch_dir("kubeconfig").join("kubeconfig");
    std::fs::write(&path, serde_yaml::to_string(&kubeconfig).unwrap()).expect("write kubeconfig");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .expect("chmod kubeconfig");
    }
    path
}

async fn client_from_kubeconfig(path: &Path) -> Client {
    support::install_crypto_provider();
    let kubeconfig =
        Kubeconfig::read_from(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("kubeconfig {}: {e}", path.display()));
    Client::try_from(config).expect("kube client")
}

// --- expectations on API calls ---------------------------------------------------------------------

fn allowed<T>(result: kube::Result<T>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("the chart's RBAC must allow {what}, got: {e}"))
}

fn allowed_op<T, E: std::fmt::Display>(result: Result<T, E>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("the chart's RBAC must allow {what}, got: {e}"))
}

fn forbidden<T: Debug>(result: kube::Result<T>, what: &str) {
    match result {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("the chart's RBAC must deny {what} (403), got: {other:?}"),
    }
}

// --- lint, schema, CRDs, rendering (no cluster needed) ------------------------------------------------

/// Values that change every knob, with two watched namespaces.
fn custom_values(watched: &[&str]) -> Value {
    json!({
        "replicaCount": 3,
        "image": {
            "repository": "registry.example.com/platform/ecs-operator",
            "tag": "0.1.0-rc.1",
            "pullPolicy": "Always"
        },
        "imagePullSecrets": [{"name": "regcred"}],
        "aws": {"region": "eu-west-1", "credentialsSecret": "aws-credentials"},
        "watchNamespaces": watched,
        "resyncPeriod": "5m",
        "concurrency": 8,
        "logLevel": "ecs_operator=debug,info",
        "logFormat": "text",
        "leaderElection": {"enabled": true, "leaseName": "ecs-operator-leader", "leaseDuration": "20s"},
        "adminPort": 9090,
        "serviceAccount": {
            "create": true,
            "name": "ecs-operator-custom",
            "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/ecs-operator"}
        },
        "rbac": {"create": true, "aggregateToDefaultRoles": false},
        "metrics": {
            "service": {"port": 9091, "annotations": {"prometheus.io/scrape": "true"}},
            "serviceMonitor": {"enabled": true, "interval": "15s", "scrapeTimeout": "5s", "labels": {"release": "prometheus"}},
            "prometheusRule": {"enabled": true, "labels": {"release": "prometheus"}}
        },
        "podDisruptionBudget": {"enabled": true, "minAvailable": 2},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": 2, "memory": "512Mi"}},
        "runAsUser": null,
        "runAsGroup": null,
        "terminationGracePeriodSeconds": 45,
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule"}
        ],
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
            "topologyKey": "kubernetes.io/hostname",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "ecs-operator"}}
        }]}},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}],
        "podAnnotations": {"example.com/team": "platform"},
        "podLabels": {"example.com/tier": "control"},
        "extraEnv": [{"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"}]
    })
}

#[test]
fn chart_passes_helm_lint() {
    let chart = chart_dir();
    let chart = chart.to_str().unwrap();
    let out = helm_cmd(&["lint", "--strict", chart]);
    assert!(
        out.success,
        "helm lint failed with the default values:\n{}",
        out.text()
    );

    let custom = values_file(&custom_values(&["team-a", "team-b"]));
    let out = helm_cmd(&["lint", "--strict", chart, "-f", custom.to_str().unwrap()]);
    assert!(
        out.success,
        "helm lint failed with custom values:\n{}",
        out.text()
    );
}

#[test]
fn schema_rejects_wrong_values() {
    let chart = chart_dir();
    let chart = chart.to_str().unwrap();
    let cases = [
        (
            "a string replica count",
            json!({"replicaCount": "2"}),
            "/replicaCount",
        ),
        (
            "a negative replica count",
            json!({"replicaCount": -1}),
            "/replicaCount",
        ),
        (
            "an unknown top-level key",
            json!({"replicas": 2}),
            "replicas",
        ),
        (
            "an unknown nested key",
            json!({"image": {"name": "x"}}),
            "name",
        ),
        (
            "watchNamespaces as a string",
            json!({"watchNamespaces": "a,b"}),
            "/watchNamespaces",
        ),
        (
            "an invalid namespace name",
            json!({"watchNamespaces": ["Team_A"]}),
            "/watchNamespaces/0",
        ),
        (
            "a duplicate namespace",
            json!({"watchNamespaces": ["a", "a"]}),
            "/watchNamespaces",
        ),
        (
            "an unknown log format",
            json!({"logFormat": "xml"}),
            "/logFormat",
        ),
        ("an empty log level", json!({"logLevel": ""}), "/logLevel"),
        (
            "a resync period without unit",
            json!({"resyncPeriod": "600"}),
            "/resyncPeriod",
        ),
        (
            "a resync period under a second",
            json!({"resyncPeriod": "500ms"}),
            "/resyncPeriod",
        ),
        (
            "a zero resync period",
            json!({"resyncPeriod": "0s"}),
            "/resyncPeriod",
        ),
        (
            "a lease too short to renew",
            json!({"leaderElection": {"enabled": true, "leaseDuration": "5s"}}),
            "/leaderElection/leaseDuration",
        ),
        (
            "a zero concurrency",
            json!({"concurrency": 0}),
            "/concurrency",
        ),
        (
            "a fractional concurrency",
            json!({"concurrency": 1.5}),
            "/concurrency",
        ),
        (
            "an unknown pull policy",
            json!({"image": {"pullPolicy": "Sometimes"}}),
            "/image/pullPolicy",
        ),
        (
            "a digest that is a tag",
            json!({"image": {"digest": "latest"}}),
            "/image/digest",
        ),
        (
            "a privileged admin port",
            json!({"adminPort": 80}),
            "/adminPort",
        ),
        (
            "a malformed region",
            json!({"aws": {"region": "Frankfurt"}}),
            "/aws/region",
        ),
        (
            "a non-string annotation",
            json!({"serviceAccount": {"annotations": {"a": 1}}}),
            "/serviceAccount/annotations",
        ),
        (
            "a boolean as string",
            json!({"metrics": {"serviceMonitor": {"enabled": "yes"}}}),
            "/metrics/serviceMonitor/enabled",
        ),
        (
            "a bad scrape interval",
            json!({"metrics": {"serviceMonitor": {"interval": "often"}}}),
            "/metrics/serviceMonitor/interval",
        ),
        (
            "a bad quantity",
            json!({"resources": {"limits": {"memory": "lots"}}}),
            "/resources/limits/memory",
        ),
        ("root as the user", json!({"runAsUser": 0}), "/runAsUser"),
        (
            "a bad topology constraint",
            json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "Maybe"}]}),
            "whenUnsatisfiable",
        ),
        (
            "several replicas without leader election",
            json!({"replicaCount": 2, "leaderElection": {"enabled": false}}),
            "/replicaCount",
        ),
    ];
    let mut failures = Vec::new();
    for (what, values, expected) in cases {
        let file = values_file(&values);
        let file = file.to_str().unwrap();
        for command in ["lint", "template"] {
            let out = helm_cmd(&[command, chart, "-f", file]);
            let text = out.text();
            if out.success {
                failures.push(format!("helm {command} accepted {what}: {values}"));
            } else if !text.contains("don't meet the specifications of the schema")
                || !text.contains(expected)
            {
                failures.push(format!(
                    "helm {command} refused {what} ({values}) but not by the schema at {expected}:\n{text}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // What only the templates can judge: two values against each other.
    let file = values_file(&json!({"replicaCount": 2, "podDisruptionBudget": {"minAvailable": 2}}));
    let out = helm_cmd(&["template", chart, "-f", file.to_str().unwrap()]);
    assert!(
        !out.success
            && out
                .text()
                .contains("minAvailable must be below replicaCount"),
        "a PodDisruptionBudget that blocks every drain was rendered:\n{}",
        out.text()
    );

    // And what the schema must keep accepting.
    for values in [
        json!({"replicaCount": 1, "leaderElection": {"enabled": false}}),
        json!({"replicaCount": 0}),
        json!({"resyncPeriod": "1h30m", "leaderElection": {"enabled": true, "leaseDuration": "30s"}}),
        json!({"aws": {"region": "us-gov-west-1"}}),
        json!({"global": {"imageRegistry": "example.com"}}),
        json!({"topologySpreadConstraints": []}),
    ] {
        let file = values_file(&values);
        let out = helm_cmd(&["template", chart, "-f", file.to_str().unwrap()]);
        assert!(
            out.success,
            "helm template refused valid values {values}:\n{}",
            out.text()
        );
    }
}

/// The chart installs the CRDs from its `crds/` folder: they must be exactly what the API types
/// generate (what `ecs-operator crds --output-dir` writes).
#[test]
fn chart_crds_are_the_generated_ones() {
    let dir = chart_dir().join("crds");
    let mut on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut stale = Vec::new();
    for crd in ecs_operator::api::crds() {
        let file = format!("{}.yaml", crd.name_any());
        let expected = ecs_operator::api::yaml_1_1_safe(&serde_yaml::to_string(&crd).unwrap());
        match std::fs::read_to_string(dir.join(&file)) {
            Ok(actual) if actual == expected => {}
            Ok(_) => stale.push(format!("{file} differs")),
            Err(_) => stale.push(format!("{file} is missing")),
        }
        on_disk.remove(&file);
    }
    stale.extend(
        on_disk
            .into_iter()
            .map(|f| format!("{f} is not a CRD of the operator")),
    );
    assert!(
        stale.is_empty(),
        "{CHART}/crds is stale ({}): regenerate it with `cargo run -- crds --output-dir {CHART}/crds` (make crds)",
        stale.join(", ")
    );
}

#[test]
fn chart_app_version_is_the_crate_version() {
    let chart: Value =
        serde_yaml::from_str(&std::fs::read_to_string(chart_dir().join("Chart.yaml")).unwrap())
            .unwrap();
    assert_eq!(
        chart["appVersion"].as_str(),
        Some(env!("CARGO_PKG_VERSION")),
        "Chart.yaml appVersion (the default image tag) must be the crate version"
    );
    let docs = render("ecs-operator", "ecs-system", &json!({}));
    assert_eq!(
        container(&docs)["image"],
        format!(
            "ghcr.io/ecs-operator/ecs-operator:{}",
            env!("CARGO_PKG_VERSION")
        )
    );
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    let docs = render(
        "ecs-operator",
        "ecs-system",
        &json!({"image": {"digest": digest}}),
    );
    assert_eq!(
        container(&docs)["image"],
        format!("ghcr.io/ecs-operator/ecs-operator@{digest}"),
        "a digest pins the image"
    );
}

#[test]
fn default_rendering_is_highly_available_secure_and_cluster_wide() {
    let docs = render("ecs-operator", "ecs-system", &json!({}));
    for doc in &docs {
        let namespaced = !kind_of(doc).starts_with("Cluster");
        assert_eq!(
            doc["metadata"]["namespace"].as_str().is_some(),
            namespaced,
            "{} {} namespace",
            kind_of(doc),
            name_of(doc)
        );
    }

    let deployment = one(&docs, "Deployment");
    assert_eq!(deployment["metadata"]["name"], "ecs-operator");
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(
        deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        0
    );
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "ecs-operator");
    assert!(pod["terminationGracePeriodSeconds"].as_i64().unwrap() > 0);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let spread: Vec<&str> = pod["topologySpreadConstraints"]
        .as_array()
        .expect("topology spread")
        .iter()
        .map(|c| {
            assert_eq!(
                c["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"],
                "ecs-operator"
            );
            c["topologyKey"].as_str().unwrap()
        })
        .collect();
    assert!(spread.contains(&"kubernetes.io/hostname"), "{spread:?}");

    let container = container(&docs);
    assert_eq!(container["args"], json!(["run"]));
    let security = &container["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert!(container["resources"]["requests"]["memory"].is_string());
    assert!(container["resources"]["limits"]["memory"].is_string());
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/livez");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["ports"][0]["containerPort"], 8080);
    assert_eq!(
        env_value(&docs, "ADMIN_ADDRESS").as_deref(),
        Some("0.0.0.0:8080")
    );
    assert_eq!(env_value(&docs, "LEADER_ELECTION").as_deref(), Some("true"));
    assert_eq!(
        env_value(&docs, "LEASE_NAME").as_deref(),
        Some("ecs-operator")
    );
    assert_eq!(
        env_var(&docs, "POD_NAME").unwrap()["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.name"
    );
    assert_eq!(
        env_var(&docs, "LEASE_NAMESPACE").unwrap()["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    assert_eq!(env_value(&docs, "RESYNC_PERIOD").as_deref(), Some("10m"));
    assert_eq!(env_value(&docs, "CONCURRENCY").as_deref(), Some("4"));
    assert_eq!(env_value(&docs, "LOG_FORMAT").as_deref(), Some("json"));
    assert_eq!(
        env_value(&docs, "WATCH_NAMESPACES"),
        None,
        "all namespaces by default"
    );
    assert_eq!(
        env_value(&docs, "ECS_OPERATOR_REGION"),
        None,
        "the SDK's region by default"
    );

    let pdb = one(&docs, "PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    let service = one(&docs, "Service");
    assert_eq!(service["spec"]["ports"][0]["targetPort"], "admin");
    assert!(
        of_kind(&docs, "ServiceMonitor").is_empty(),
        "ServiceMonitor is off by default"
    );
    assert!(
        of_kind(&docs, "PrometheusRule").is_empty(),
        "PrometheusRule is off by default"
    );
    assert!(one(&docs, "ServiceAccount")["metadata"]["annotations"].is_null());

    // Cluster-wide: the kinds through a ClusterRole; namespaces only kube-system; leases only in
    // the release namespace.
    let operator_role = of_kind(&docs, "ClusterRole")
        .into_iter()
        .find(|r| name_of(r) == "ecs-operator")
        .expect("operator ClusterRole");
    let groups: BTreeSet<&str> = operator_role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["apiGroups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g.as_str().unwrap())
        })
        .collect();
    assert_eq!(
        groups,
        BTreeSet::from(["ecs.operator.dev", "events.k8s.io"])
    );
    let cluster_id = of_kind(&docs, "ClusterRole")
        .into_iter()
        .find(|r| name_of(r) == "ecs-operator-cluster-id")
        .expect("cluster-id ClusterRole");
    assert_eq!(
        cluster_id["rules"],
        json!([{"apiGroups": [""], "resources": ["namespaces"], "resourceNames": ["kube-system"], "verbs": ["get"]}])
    );
    let roles = of_kind(&docs, "Role");
    assert_eq!(roles.len(), 1, "only the leader election Role");
    assert_eq!(roles[0]["metadata"]["namespace"], "ecs-system");
    assert!(
        roles[0]["rules"]
            .to_string()
            .contains("coordination.k8s.io")
    );
    // No rule anywhere grants a wildcard.
    for role in of_kind(&docs, "Role")
        .into_iter()
        .chain(of_kind(&docs, "ClusterRole"))
    {
        assert!(
            !role["rules"].to_string().contains("\"*\""),
            "wildcard in {}",
            name_of(role)
        );
    }
}

#[test]
fn rendering_follows_custom_values() {
    let docs = render("ops", "platform", &custom_values(&["team-a", "team-b"]));
    let deployment = one(&docs, "Deployment");
    assert_eq!(deployment["metadata"]["name"], "ops-ecs-operator");
    assert_eq!(deployment["spec"]["replicas"], 3);
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "ecs-operator-custom");
    assert_eq!(pod["imagePullSecrets"], json!([{"name": "regcred"}]));
    assert_eq!(pod["terminationGracePeriodSeconds"], 45);
    assert_eq!(pod["nodeSelector"], json!({"kubernetes.io/os": "linux"}));
    assert!(
        pod["securityContext"]["runAsUser"].is_null(),
        "runAsUser null is left to the platform"
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["topologySpreadConstraints"][0]["whenUnsatisfiable"],
        "DoNotSchedule"
    );
    assert!(pod["affinity"]["podAntiAffinity"].is_object());
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["labels"]["example.com/tier"],
        "control"
    );
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["annotations"]["example.com/team"],
        "platform"
    );

    let container = container(&docs);
    assert_eq!(
        container["image"],
        "registry.example.com/platform/ecs-operator:0.1.0-rc.1"
    );
    assert_eq!(container["imagePullPolicy"], "Always");
    assert_eq!(container["ports"][0]["containerPort"], 9090);
    assert_eq!(
        container["envFrom"],
        json!([{"secretRef": {"name": "aws-credentials"}}])
    );
    assert_eq!(container["resources"]["limits"]["cpu"], 2);
    for (name, value) in [
        ("WATCH_NAMESPACES", "team-a,team-b"),
        ("RESYNC_PERIOD", "5m"),
        ("CONCURRENCY", "8"),
        ("ECS_OPERATOR_REGION", "eu-west-1"),
        ("ADMIN_ADDRESS", "0.0.0.0:9090"),
        ("LOG_LEVEL", "ecs_operator=debug,info"),
        ("LOG_FORMAT", "text"),
        ("LEASE_NAME", "ecs-operator-leader"),
        ("LEASE_DURATION", "20s"),
        ("AWS_STS_REGIONAL_ENDPOINTS", "regional"),
    ] {
        assert_eq!(env_value(&docs, name).as_deref(), Some(value), "{name}");
    }

    let sa = one(&docs, "ServiceAccount");
    assert_eq!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::111122223333:role/ecs-operator"
    );
    assert_eq!(one(&docs, "PodDisruptionBudget")["spec"]["minAvailable"], 2);
    assert_eq!(one(&docs, "Service")["spec"]["ports"][0]["port"], 9091);
    let monitor = one(&docs, "ServiceMonitor");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(monitor["spec"]["endpoints"][0]["interval"], "15s");

    // Namespaced: a Role and RoleBinding per watched namespace and no cluster-wide access to the
    // kinds; the only ClusterRole left is the kube-system read (user roles are off here).
    let roles: BTreeSet<(&str, &str)> = of_kind(&docs, "Role")
        .into_iter()
        .map(|r| (r["metadata"]["namespace"].as_str().unwrap(), name_of(r)))
        .collect();
    assert_eq!(
        roles,
        BTreeSet::from([
            ("team-a", "ops-ecs-operator"),
            ("team-b", "ops-ecs-operator"),
            ("platform", "ops-ecs-operator-leader-election"),
        ])
    );
    for binding in of_kind(&docs, "RoleBinding") {
        assert_eq!(binding["subjects"][0]["namespace"], "platform");
        assert_eq!(binding["subjects"][0]["name"], "ecs-operator-custom");
    }
    let cluster_roles: Vec<&str> = of_kind(&docs, "ClusterRole")
        .into_iter()
        .map(name_of)
        .collect();
    assert_eq!(cluster_roles, ["ops-ecs-operator-cluster-id"]);
    let leader_election = of_kind(&docs, "Role")
        .into_iter()
        .find(|r| r["metadata"]["namespace"] == "platform")
        .unwrap();
    assert!(
        leader_election["rules"]
            .to_string()
            .contains("\"ecs-operator-leader\"")
    );
}

#[test]
fn single_replica_rendering() {
    // One replica: no PodDisruptionBudget (it would block every drain).
    let docs = render("ecs-operator", "ecs-system", &json!({"replicaCount": 1}));
    assert!(of_kind(&docs, "PodDisruptionBudget").is_empty());
    assert_eq!(env_value(&docs, "LEADER_ELECTION").as_deref(), Some("true"));

    // Without leader election: no Lease access, and Recreate so that two never overlap.
    let docs = render(
        "ecs-operator",
        "ecs-system",
        &json!({"replicaCount": 1, "leaderElection": {"enabled": false}}),
    );
    assert_eq!(
        env_value(&docs, "LEADER_ELECTION").as_deref(),
        Some("false")
    );
    assert_eq!(
        one(&docs, "Deployment")["spec"]["strategy"]["type"],
        "Recreate"
    );
    assert!(of_kind(&docs, "Role").is_empty());
    assert!(
        !serde_json::to_string(&docs)
            .unwrap()
            .contains("coordination.k8s.io")
    );

    // rbac.create false: no RBAC at all (someone else grants it).
    let docs = render(
        "ecs-operator",
        "ecs-system",
        &json!({"rbac": {"create": false}}),
    );
    for kind in ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"] {
        assert!(
            of_kind(&docs, kind).is_empty(),
            "{kind} rendered with rbac.create false"
        );
    }
}

/// The binary accepts what the chart passes (args and environment): run with the rendered
/// settings and no reachable Kubernetes, it gets past argument parsing (clap reports a bad value
/// and exits 2) and stops at the missing kubeconfig, or is stopped after a while.
#[test]
fn chart_settings_are_accepted_by_the_operator_cli() {
    const CLAP_ERROR: &str = "For more information, try '--help'";
    let check = |docs: &[Value]| -> String {
        let container = container(docs);
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecs-operator"));
        command
            .env_clear()
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for arg in container["args"].as_array().expect("args") {
            command.arg(arg.as_str().unwrap());
        }
        for var in container["env"].as_array().expect("env") {
            let name = var["name"].as_str().unwrap();
            // Downward API values: what the kubelet would fill in.
            let value = var["value"].as_str().unwrap_or("from-the-downward-api");
            command.env(name, value);
        }
        let mut child = command.spawn().expect("run ecs-operator");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while child.try_wait().expect("wait").is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let out = child.wait_with_output().expect("wait");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    for values in [json!({}), custom_values(&["team-a", "team-b"])] {
        let stderr = check(&render("ecs-operator", "ecs-system", &values));
        assert!(
            !stderr.contains(CLAP_ERROR),
            "the operator refused the chart's settings ({values}):\n{stderr}"
        );
    }
    // The check is real: a value the CLI does not accept is reported.
    let mut docs = render("ecs-operator", "ecs-system", &json!({}));
    let deployment = docs
        .iter_mut()
        .find(|d| kind_of(d) == "Deployment")
        .unwrap();
    let env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap();
    for var in env.iter_mut().filter(|v| v["name"] == "RESYNC_PERIOD") {
        var["value"] = json!("soon");
    }
    let stderr = check(&docs);
    assert!(stderr.contains(CLAP_ERROR), "{stderr}");
}

// --- against the local environment's API server ------------------------------------------------------

#[tokio::test]
async fn default_values_pass_server_side_dry_run() {
    let client = support::kube_client().await;
    let namespace = support::test_namespace(&client, "helm-default").await;
    let yaml = helm_template(
        &support::unique_name("ecs-op"),
        &namespace,
        &json!({}),
        true,
    );
    let applied = server_side_dry_run(&yaml);
    for kind in [
        "customresourcedefinition.apiextensions.k8s.io/ecsclusters.ecs.operator.dev",
        "customresourcedefinition.apiextensions.k8s.io/ecstaskdefinitions.ecs.operator.dev",
        "customresourcedefinition.apiextensions.k8s.io/ecsservices.ecs.operator.dev",
        "customresourcedefinition.apiextensions.k8s.io/ecstasks.ecs.operator.dev",
        "customresourcedefinition.apiextensions.k8s.io/ecsscheduledtasks.ecs.operator.dev",
        "customresourcedefinition.apiextensions.k8s.io/ecscapacityproviders.ecs.operator.dev",
        "deployment.apps/",
        "serviceaccount/",
        "service/",
        "poddisruptionbudget.policy/",
        "clusterrole.rbac.authorization.k8s.io/",
        "clusterrolebinding.rbac.authorization.k8s.io/",
        "role.rbac.authorization.k8s.io/",
        "rolebinding.rbac.authorization.k8s.io/",
    ] {
        assert!(
            applied.contains(kind),
            "{kind} missing from the dry run:\n{applied}"
        );
    }
}

/// `helm install --dry-run=client` (it asks the API server only for its version): the install
/// path renders, NOTES.txt included, with default and custom values.
#[tokio::test]
async fn install_dry_run_renders_the_notes() {
    let kubeconfig = support::env().kubeconfig.clone();
    for (values, expected) in [
        (json!({}), "no IRSA role"),
        (
            custom_values(&["team-a", "team-b"]),
            "namespaces team-a, team-b",
        ),
    ] {
        let file = values_file(&values);
        let chart = chart_dir();
        let out = run(
            Command::new(helm())
                .env("KUBECONFIG", &kubeconfig)
                .args(["install", "ecs-operator", chart.to_str().unwrap()])
                .args(["--dry-run=client", "--namespace", "ecs-system", "-f"])
                .arg(&file),
            None,
        );
        assert!(
            out.success,
            "helm install --dry-run failed:\n{}",
            out.text()
        );
        let notes = out.stdout.split("NOTES:").nth(1).unwrap_or_default();
        assert!(notes.contains("kubectl get ecs -A"), "NOTES:\n{notes}");
        assert!(
            notes.contains(expected),
            "NOTES lack {expected:?}:\n{notes}"
        );
    }
}

/// prometheus-operator's real ServiceMonitor and PrometheusRule CRDs (from its Go module), so that
/// the dry run validates the chart's objects against their schemas.
async fn install_monitoring_crds(client: &Client) {
    for tool_name in ["servicemonitor-crd", "prometheusrule-crd"] {
        let path = support::tool(tool_name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let crd: CustomResourceDefinition = serde_yaml::from_str(&text).expect(tool_name);
        support::install_crd(client, &crd).await;
    }
}

#[tokio::test]
async fn custom_values_pass_server_side_dry_run() {
    let client = support::kube_client().await;
    install_monitoring_crds(&client).await;
    let release_namespace = support::test_namespace(&client, "helm-custom").await;
    let team_a = support::test_namespace(&client, "helm-team-a").await;
    let team_b = support::test_namespace(&client, "helm-team-b").await;
    let values = custom_values(&[&team_a, &team_b]);
    let yaml = helm_template(
        &support::unique_name("ecs-op"),
        &release_namespace,
        &values,
        true,
    );
    let applied = server_side_dry_run(&yaml);
    assert!(
        applied.contains("servicemonitor.monitoring.coreos.com/")
            && applied.contains("prometheusrule.monitoring.coreos.com/"),
        "{applied}"
    );
    assert_eq!(
        applied.matches("role.rbac.authorization.k8s.io/").count(),
        3 + 1,
        "{applied}"
    );

    // The ServiceMonitor is really checked: a typo in it is refused.
    let docs = documents(&yaml);
    let mut monitor = one(&docs, "ServiceMonitor").clone();
    monitor["spec"]["endpoints"][0]["intervall"] = json!("15s");
    let out = kubectl(
        &[
            "apply",
            "--server-side",
            "--dry-run=server",
            "--validate=strict",
            "-f",
            "-",
        ],
        Some(&to_yaml_stream(&[&monitor])),
    );
    assert!(
        !out.success,
        "a ServiceMonitor with an unknown field passed:\n{}",
        out.text()
    );
}

/// Creates a Pod from the Deployment's template (server-side dry run) in a namespace that
/// enforces the "restricted" Pod Security Standard: the PodSecurity admission refuses any pod that
/// runs as root, escalates privileges, keeps capabilities or lacks a seccomp profile.
#[tokio::test]
async fn operator_pod_meets_the_restricted_pod_security_standard() {
    let client = support::kube_client().await;
    let namespace = support::test_namespace(&client, "helm-restricted").await;
    let labels = json!({"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest"
    }}});
    Api::<Namespace>::all(client.clone())
        .patch(&namespace, &PatchParams::default(), &Patch::Merge(&labels))
        .await
        .expect("label the namespace");

    for values in [json!({}), json!({"runAsUser": null, "runAsGroup": null})] {
        let docs = render(&support::unique_name("ecs-op"), &namespace, &values);
        // The ServiceAccount admission needs the pod's ServiceAccount to exist.
        let sa: ServiceAccount =
            serde_json::from_value(one(&docs, "ServiceAccount").clone()).unwrap();
        Api::<ServiceAccount>::namespaced(client.clone(), &namespace)
            .create(&PostParams::default(), &sa)
            .await
            .expect("create the ServiceAccount");
        let template = &one(&docs, "Deployment")["spec"]["template"];
        let pod: Pod = serde_json::from_value(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"generateName": "ecs-operator-", "labels": template["metadata"]["labels"]},
            "spec": template["spec"],
        }))
        .expect("pod from the template");
        let dry_run = PostParams {
            dry_run: true,
            ..PostParams::default()
        };
        Api::<Pod>::namespaced(client.clone(), &namespace)
            .create(&dry_run, &pod)
            .await
            .unwrap_or_else(|e| {
                panic!("the restricted namespace refused the operator pod ({values}): {e}")
            });
    }

    // The check is real: the same pod as root is refused.
    let docs = render("ecs-operator", &namespace, &json!({"runAsUser": null}));
    let mut spec = one(&docs, "Deployment")["spec"]["template"]["spec"].clone();
    spec["securityContext"]["runAsNonRoot"] = json!(false);
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = json!(false);
    spec["serviceAccountName"] = json!("default");
    let pod: Pod =
        serde_json::from_value(json!({"metadata": {"name": "root"}, "spec": spec})).unwrap();
    let refused = Api::<Pod>::namespaced(client.clone(), &namespace)
        .create(
            &PostParams {
                dry_run: true,
                ..PostParams::default()
            },
            &pod,
        )
        .await;
    assert!(
        matches!(&refused, Err(kube::Error::Api(s)) if s.code == 403 && s.message.contains("restricted")),
        "a root pod was not refused: {refused:?}"
    );
}

// --- RBAC: sufficient and narrow -------------------------------------------------------------------------

fn test_object<K: DeserializeOwned + Resource<DynamicType = ()>>(name: &str, spec: Value) -> K {
    serde_json::from_value(json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": {"name": name},
        "spec": spec,
    }))
    .expect("test object")
}

/// Does, as `operator` (the chart's identity), what the operator does with one kind in
/// `namespace`, and checks that what it does not do is denied. `cluster_wide`: whether the
/// operator watches all namespaces (else only this one).
async fn exercise_kind<K>(
    admin: &Client,
    operator: &Client,
    namespace: &str,
    object: K,
    cluster_wide: bool,
    self_deletes: bool,
) where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let kind = K::kind(&()).into_owned();
    let name = object.name_any();
    Api::<K>::namespaced(admin.clone(), namespace)
        .create(&PostParams::default(), &object)
        .await
        .unwrap_or_else(|e| panic!("admin creates {kind} {name}: {e}"));
    let api = Api::<K>::namespaced(operator.clone(), namespace);

    // The controllers' watches: list + watch, cluster-wide or in the namespace.
    let scope = if cluster_wide {
        Api::<K>::all(operator.clone())
    } else {
        api.clone()
    };
    allowed(
        scope.list(&ListParams::default().limit(1)).await,
        &format!("list {kind}"),
    );
    allowed(
        scope
            .watch(&WatchParams::default().timeout(1), "0")
            .await
            .map(|_| ()),
        &format!("watch {kind}"),
    );
    if !cluster_wide {
        forbidden(
            Api::<K>::all(operator.clone())
                .list(&ListParams::default().limit(1))
                .await,
            &format!("list {kind} in all namespaces when watching one"),
        );
    }
    let fetched = allowed(api.get(&name).await, &format!("get {kind}"));

    // The finalizer (JSON patch on the main resource), exactly as the operator adds it.
    allowed_op(
        ecs_operator::controller::add_finalizer(&api, &fetched).await,
        &format!("add the finalizer to {kind}"),
    );
    let fetched = api.get(&name).await.unwrap();
    assert!(fetched.finalizers().iter().any(|f| f == FINALIZER));

    // Status by server-side apply on /status.
    let status = json!({
        "observedGeneration": 1,
        "conditions": [{
            "type": "Ready",
            "status": "Unknown",
            "reason": "RbacCheck",
            "message": "written by the chart's RBAC test",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
            "observedGeneration": 1
        }]
    });
    allowed_op(
        ecs_operator::controller::write_status(&api, &fetched, None, &status).await,
        &format!("patch {kind}/status"),
    );
    let written = serde_json::to_value(api.get(&name).await.unwrap()).unwrap();
    assert_eq!(
        written["status"]["conditions"][0]["reason"], "RbacCheck",
        "{kind} status written"
    );

    // Events: created, then patched when the same event repeats (a series).
    let recorder = Recorder::new(
        operator.clone(),
        Reporter {
            controller: "ecs-operator".into(),
            instance: Some("helm-rbac-test".into()),
        },
    );
    let event = Event {
        type_: EventType::Normal,
        reason: "RbacCheck".into(),
        note: Some(format!("{kind} event from the chart's identity")),
        action: "Reconcile".into(),
        secondary: None,
    };
    let reference = fetched.object_ref(&());
    allowed(
        recorder.publish(&event, &reference).await,
        "create events.k8s.io Events",
    );
    allowed(
        recorder.publish(&event, &reference).await,
        "patch events.k8s.io Events",
    );
    let events = Api::<K8sEvent>::namespaced(admin.clone(), namespace)
        .list(&ListParams::default())
        .await
        .unwrap();
    let ours = events
        .items
        .iter()
        .find(|e| {
            e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name.as_str())
                && e.regarding.as_ref().and_then(|r| r.kind.as_deref()) == Some(kind.as_str())
                && e.reason.as_deref() == Some("RbacCheck")
        })
        .unwrap_or_else(|| panic!("no event on {kind} {name}"));
    assert_eq!(
        ours.series.as_ref().map(|s| s.count),
        Some(2),
        "the repeat patched the event"
    );

    // Removing the finalizer once cleanup is done.
    let fetched = api.get(&name).await.unwrap();
    allowed_op(
        ecs_operator::controller::remove_finalizer(&api, &fetched).await,
        &format!("remove the finalizer from {kind}"),
    );

    // The operator never creates or replaces its objects, and deletes only a finished EcsTask
    // (ttlSecondsAfterFinished).
    let mut other = object.clone();
    other.meta_mut().name = Some(format!("{name}-other"));
    forbidden(
        api.create(&PostParams::default(), &other).await,
        &format!("create {kind}"),
    );
    let current = api.get(&name).await.unwrap();
    forbidden(
        api.replace(&name, &PostParams::default(), &current).await,
        &format!("update (PUT) {kind}"),
    );
    let deleted = api
        .delete(&name, &DeleteParams::default())
        .await
        .map(|_| ());
    if self_deletes {
        allowed(deleted, &format!("delete {kind}"));
    } else {
        forbidden(deleted, &format!("delete {kind}"));
    }
}

/// The six kinds, each exercised in `namespace`.
async fn exercise_all_kinds(
    admin: &Client,
    operator: &Client,
    namespace: &str,
    cluster_wide: bool,
) {
    exercise_kind(
        admin,
        operator,
        namespace,
        test_object::<EcsCluster>("rbac", json!({})),
        cluster_wide,
        false,
    )
    .await;
    exercise_kind(
        admin,
        operator,
        namespace,
        test_object::<EcsTaskDefinition>(
            "rbac",
            json!({"containerDefinitions": [{"name": "app", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 256}]}),
        ),
        cluster_wide,
        false,
    )
    .await;
    exercise_kind(
        admin,
        operator,
        namespace,
        test_object::<EcsService>("rbac", json!({"cluster": "rbac", "taskDefinition": "rbac"})),
        cluster_wide,
        false,
    )
    .await;
    exercise_kind(
        admin,
        operator,
        namespace,
        test_object::<EcsTask>("rbac", json!({"cluster": "rbac", "taskDefinition": "rbac"})),
        cluster_wide,
        true,
    )
    .await;
    exercise_kind(
        admin,
        operator,
        namespace,
        test_object::<EcsScheduledTask>(
            "rbac",
            json!({"cluster": "rbac", "taskDefinition": "rbac", "scheduleExpression": "rate(1 day)",
                   "roleArn": "arn:aws:iam::123456789012:role/scheduler-run-task"}),
        ),
        cluster_wide,
        false,
    )
    .await;
    exercise_kind(
        admin,
        operator,
        namespace,
        test_object::<EcsCapacityProvider>(
            "rbac",
            json!({"autoScalingGroupProvider": {"autoScalingGroupArn": "rbac"}}),
        ),
        cluster_wide,
        false,
    )
    .await;
}

/// The cluster id (kube-system's uid) and the leader election Lease, as the operator uses them;
/// and the neighbours of those grants, denied.
async fn exercise_cluster_id_and_lease(
    admin: &Client,
    operator: &Client,
    identity: &OperatorIdentity,
) {
    let expected = Api::<Namespace>::all(admin.clone())
        .get("kube-system")
        .await
        .unwrap()
        .uid();
    let cluster_id = allowed_op(
        ecs_operator::controller::cluster_id(operator).await,
        "get the kube-system namespace",
    );
    assert_eq!(Some(cluster_id), expected);
    let namespaces = Api::<Namespace>::all(operator.clone());
    forbidden(namespaces.get("default").await, "get another namespace");
    forbidden(
        namespaces.list(&ListParams::default()).await,
        "list namespaces",
    );

    let leases = Api::<Lease>::namespaced(operator.clone(), &identity.namespace);
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": identity.lease_name},
        "spec": {"holderIdentity": "replica-0", "leaseDurationSeconds": 15}
    }))
    .unwrap();
    allowed(
        leases.create(&PostParams::default(), &lease).await,
        "create the Lease",
    );
    let mut current = allowed(leases.get(&identity.lease_name).await, "get the Lease");
    current.spec.as_mut().unwrap().holder_identity = Some("replica-1".into());
    allowed(
        leases
            .replace(&identity.lease_name, &PostParams::default(), &current)
            .await,
        "update the Lease",
    );
    let renew = json!({"spec": {"leaseTransitions": 1}});
    allowed(
        leases
            .patch(
                &identity.lease_name,
                &PatchParams::default(),
                &Patch::Merge(&renew),
            )
            .await,
        "patch the Lease",
    );
    let apply = json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "spec": {"holderIdentity": "replica-1"}
    });
    allowed(
        leases
            .patch(
                &identity.lease_name,
                &PatchParams::apply("ecs-operator"),
                &Patch::Apply(&apply),
            )
            .await,
        "server-side apply the Lease",
    );
    forbidden(leases.get("someone-elses-lease").await, "get another Lease");
    forbidden(
        leases.list(&ListParams::default()).await.map(|_| ()),
        "list Leases",
    );
    forbidden(
        leases
            .delete(&identity.lease_name, &DeleteParams::default())
            .await
            .map(|_| ()),
        "delete the Lease",
    );
    forbidden(
        Api::<Lease>::namespaced(operator.clone(), "kube-system")
            .get(&identity.lease_name)
            .await,
        "get a Lease outside the release namespace",
    );

    // Leader election exactly as the operator runs it: kube-lease-manager creates the Lease,
    // acquires it (server-side apply under the operator's field manager) and releases it.
    Api::<Lease>::namespaced(admin.clone(), &identity.namespace)
        .delete(&identity.lease_name, &DeleteParams::default())
        .await
        .expect("admin deletes the test Lease");
    let manager =
        kube_lease_manager::LeaseManagerBuilder::new(operator.clone(), &identity.lease_name)
            .with_namespace(&identity.namespace)
            .with_identity("replica-0")
            .with_duration(15)
            .with_grace(5)
            .with_field_manager(ecs_operator::api::FIELD_MANAGER)
            .build()
            .await;
    let manager = allowed_op(manager, "create the Lease through kube-lease-manager");
    let acquired = tokio::time::timeout(std::time::Duration::from_secs(30), manager.changed())
        .await
        .expect("kube-lease-manager decided within 30s");
    assert!(
        allowed_op(acquired, "acquire the Lease through kube-lease-manager"),
        "the only candidate did not become leader"
    );
    allowed_op(
        manager.release().await,
        "release the Lease through kube-lease-manager",
    );
    let released = Api::<Lease>::namespaced(admin.clone(), &identity.namespace)
        .get(&identity.lease_name)
        .await
        .unwrap();
    let holder = released.spec.and_then(|s| s.holder_identity);
    assert!(
        holder.as_deref().is_none_or(str::is_empty),
        "the Lease is released: {holder:?}"
    );
}

/// What the operator never needs, denied everywhere it runs.
async fn exercise_denials(operator: &Client, namespace: &str) {
    forbidden(
        Api::<Secret>::namespaced(operator.clone(), namespace)
            .list(&ListParams::default())
            .await,
        "list Secrets",
    );
    forbidden(
        Api::<Secret>::all(operator.clone())
            .list(&ListParams::default())
            .await,
        "list Secrets in all namespaces",
    );
    forbidden(
        Api::<ConfigMap>::namespaced(operator.clone(), namespace)
            .get("kube-root-ca.crt")
            .await,
        "get a ConfigMap",
    );
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "intruder"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}
    }))
    .unwrap();
    forbidden(
        Api::<Pod>::namespaced(operator.clone(), namespace)
            .create(&PostParams::default(), &pod)
            .await,
        "create a Pod",
    );
    let core_event: k8s_openapi::api::core::v1::Event = serde_json::from_value(json!({
        "metadata": {"name": "core-event"},
        "involvedObject": {"kind": "Pod", "name": "x", "namespace": namespace},
        "reason": "Test"
    }))
    .unwrap();
    forbidden(
        Api::<k8s_openapi::api::core::v1::Event>::namespaced(operator.clone(), namespace)
            .create(&PostParams::default(), &core_event)
            .await,
        "create core/v1 Events (the operator uses events.k8s.io)",
    );
    forbidden(
        Api::<CustomResourceDefinition>::all(operator.clone())
            .list(&ListParams::default())
            .await,
        "list CRDs",
    );
}

/// Default values (all namespaces): the operator's calls succeed under the chart's identity;
/// anything else is refused.
#[tokio::test]
async fn rbac_allows_what_the_operator_does_and_nothing_else() {
    let admin = support::kube_client().await;
    support::install_crds(&admin).await;
    let namespace = support::test_namespace(&admin, "helm-rbac").await;
    let identity = OperatorIdentity::install(&namespace, &json!({})).await;
    let operator = identity.client().await;

    exercise_all_kinds(&admin, &operator, &namespace, true).await;
    exercise_cluster_id_and_lease(&admin, &operator, &identity).await;
    exercise_denials(&operator, &namespace).await;
}

/// With watchNamespaces, the kinds and events are reachable in the watched namespaces only.
#[tokio::test]
async fn rbac_with_watch_namespaces_stays_in_them() {
    let admin = support::kube_client().await;
    support::install_crds(&admin).await;
    let release_namespace = support::test_namespace(&admin, "helm-rbac-ops").await;
    let watched = support::test_namespace(&admin, "helm-rbac-watched").await;
    let unwatched = support::test_namespace(&admin, "helm-rbac-unwatched").await;
    let identity =
        OperatorIdentity::install(&release_namespace, &json!({"watchNamespaces": [watched]})).await;
    let operator = identity.client().await;

    // The operator's settings from the chart point at what the RBAC grants.
    let env: std::collections::HashMap<String, String> =
        identity.operator_env("replica-0").into_iter().collect();
    assert_eq!(env["WATCH_NAMESPACES"], watched);
    assert_eq!(env["LEASE_NAMESPACE"], release_namespace);
    assert_eq!(env["LEASE_NAME"], identity.lease_name);
    assert_eq!(env["POD_NAME"], "replica-0");

    exercise_all_kinds(&admin, &operator, &watched, false).await;
    exercise_cluster_id_and_lease(&admin, &operator, &identity).await;
    exercise_denials(&operator, &watched).await;

    // Nothing in a namespace it does not watch, nor of its kinds in its own namespace.
    for namespace in [&unwatched, &release_namespace] {
        forbidden(
            Api::<EcsCluster>::namespaced(operator.clone(), namespace)
                .list(&ListParams::default())
                .await,
            &format!("list EcsClusters in {namespace}"),
        );
        let event: K8sEvent = serde_json::from_value(json!({
            "metadata": {"name": "outside"},
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "reportingController": "ecs-operator",
            "reportingInstance": "helm-rbac-test",
            "action": "Reconcile",
            "reason": "RbacCheck",
            "type": "Normal"
        }))
        .unwrap();
        forbidden(
            Api::<K8sEvent>::namespaced(operator.clone(), namespace)
                .create(&PostParams::default(), &event)
                .await,
            &format!("create Events in {namespace}"),
        );
    }
}

/// The chart's identity is enough to run the operator: the binary, started with the chart's
/// settings and only the ServiceAccount's token, reconciles a cluster and a task definition to
/// Ready (finalizers, status, events, the kube-system uid and its Lease included).
#[tokio::test]
async fn the_operator_runs_under_the_charts_identity() {
    let admin = support::kube_client().await;
    support::install_crds(&admin).await;
    let release_namespace = support::test_namespace(&admin, "helm-run-ops").await;
    let watched = support::test_namespace(&admin, "helm-run").await;
    let identity =
        OperatorIdentity::install(&release_namespace, &json!({"watchNamespaces": [watched]})).await;

    let mut environment: Vec<(String, String)> = support::env()
        .vars
        .iter()
        .filter(|(name, _)| name.starts_with("AWS_"))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    environment.extend(identity.operator_env("ecs-operator-0"));
    let mut operator = std::process::Command::new(env!("CARGO_BIN_EXE_ecs-operator"))
        .arg("run")
        .env_clear()
        .envs(environment)
        .env("LOG_FORMAT", "text")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("the operator starts");

    let clusters: kube::Api<EcsCluster> = kube::Api::namespaced(admin.clone(), &watched);
    let definitions: kube::Api<EcsTaskDefinition> = kube::Api::namespaced(admin.clone(), &watched);
    let cluster: EcsCluster = serde_json::from_value(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsCluster",
        "metadata": {"name": "apps"},
        "spec": {"clusterName": support::unique_name("helm-apps")}
    }))
    .unwrap();
    let definition: EcsTaskDefinition = serde_json::from_value(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTaskDefinition",
        "metadata": {"name": "web"},
        "spec": {"family": support::unique_name("helm-web"), "containerDefinitions": [
            {"name": "web", "image": "nginx", "memory": 256}
        ]}
    }))
    .unwrap();
    clusters
        .create(&Default::default(), &cluster)
        .await
        .unwrap();
    definitions
        .create(&Default::default(), &definition)
        .await
        .unwrap();

    let ready =
        |conditions: Option<&Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>>| {
            conditions.is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let cluster = clusters.get("apps").await.unwrap();
        let definition = definitions.get("web").await.unwrap();
        if ready(cluster.status.as_ref().map(|s| &s.conditions))
            && ready(definition.status.as_ref().map(|s| &s.conditions))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not Ready under the chart's identity: {:?} / {:?}",
            cluster.status,
            definition.status
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let _ = operator.kill();
    let _ = operator.wait();
}

/// The selectors of a PromQL expression: metric name and equality matchers.
fn selectors(expr: &promql_parser::parser::Expr, found: &mut Vec<(String, Vec<(String, String)>)>) {
    use promql_parser::parser::{Expr, VectorSelector};
    let mut selector = |v: &VectorSelector| {
        let matchers = v.matchers.matchers.iter();
        let labels = matchers
            .map(|m| (m.name.clone(), m.value.clone()))
            .collect();
        found.push((v.name.clone().unwrap_or_default(), labels));
    };
    match expr {
        Expr::VectorSelector(v) => selector(v),
        Expr::MatrixSelector(m) => selector(&m.vs),
        Expr::Aggregate(a) => selectors(&a.expr, found),
        Expr::Binary(b) => {
            selectors(&b.lhs, found);
            selectors(&b.rhs, found);
        }
        Expr::Paren(p) => selectors(&p.expr, found),
        Expr::Call(call) => call.args.args.iter().for_each(|arg| selectors(arg, found)),
        Expr::Unary(u) => selectors(&u.expr, found),
        Expr::Subquery(q) => selectors(&q.expr, found),
        _ => {}
    }
}

#[test]
fn the_alerts_are_valid_promql_on_metrics_the_operator_exports() {
    let values = json!({"metrics": {"prometheusRule": {"enabled": true}}});
    let docs = render("ecs-op", "platform", &values);
    let rule = one(&docs, "PrometheusRule");
    let service = name_of(one(&docs, "Service")).to_string();

    // What the operator exports, every family present (counters once they counted).
    let metrics = ecs_operator::runtime::metrics::Metrics::default();
    drop(metrics.reconcile("EcsService"));
    metrics.reconcile_failure("EcsService", &ecs_operator::Error::InvalidSpec("x".into()));
    metrics.ecs_call("UpdateService", ecs_operator::ecs::CALL_OUTCOMES[1]);
    let exported: BTreeSet<String> = metrics
        .render()
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split(['{', ' ']).next())
        .map(str::to_string)
        .collect();
    // The label values the operator writes.
    let values: BTreeMap<&str, Vec<&str>> = BTreeMap::from([
        (
            "state",
            ecs_operator::runtime::metrics::OBJECT_STATES.to_vec(),
        ),
        ("outcome", ecs_operator::ecs::CALL_OUTCOMES.to_vec()),
        ("namespace", vec!["platform"]),
        ("service", vec![service.as_str()]),
    ]);

    let rules = rule["spec"]["groups"][0]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    for rule in rules {
        let alert = rule["alert"].as_str().unwrap();
        let expr = rule["expr"].as_str().unwrap();
        let parsed =
            promql_parser::parser::parse(expr).unwrap_or_else(|e| panic!("{alert}: {expr}: {e}"));
        let mut found = Vec::new();
        selectors(&parsed, &mut found);
        assert!(!found.is_empty(), "{alert} selects nothing");
        for (name, labels) in found {
            assert!(
                exported.contains(&name),
                "{alert} uses {name}, which the operator does not export: {exported:?}"
            );
            // Scoped to this release, and matching only label values that exist.
            for scope in ["namespace", "service"] {
                assert!(
                    labels.iter().any(|(l, _)| l == scope),
                    "{alert}: no {scope} in {expr}"
                );
            }
            for (label, value) in labels {
                let known = values.get(label.as_str());
                assert!(
                    known.is_some_and(|known| known.contains(&value.as_str())),
                    "{alert} matches {label}={value:?}, which the operator never writes"
                );
            }
        }
    }
}

//! A version's compose stack on Docker: its own network, its named volumes, its containers, all labelled so
//! switchyard finds (and only ever removes) what it created.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, Mount, MountType, NetworkConnectRequest,
    NetworkCreateRequest, NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, ListVolumesOptionsBuilder,
    RemoveContainerOptionsBuilder, StartContainerOptions,
};
use switchyard_compose::{ComposeProject, Condition, MountKind, RestartPolicy as Policy, Service};

/// Labels on everything switchyard creates.
pub(crate) const MANAGED: &str = "switchyard.managed";
pub(crate) const STACK: &str = "switchyard.stack";

pub(crate) fn labels(app: &str, env: &str, version: &str, stack: &str, role: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED.to_string(), "true".to_string()),
        ("switchyard.app".to_string(), app.to_string()),
        ("switchyard.env".to_string(), env.to_string()),
        ("switchyard.version".to_string(), version.to_string()),
        (STACK.to_string(), stack.to_string()),
        ("switchyard.role".to_string(), role.to_string()),
        // So `docker compose ls/ps` recognises the stack too.
        ("com.docker.compose.project".to_string(), stack.to_string()),
    ])
}

fn nanos(d: switchyard_model::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 1_000_000) * 1_000_000
}

fn is_conflict(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 409, .. })
}

/// Creates the network, volumes and containers of a stack and starts them in dependency order. Whatever
/// exists already with switchyard's labels is kept, so a re-run after an interruption carries on.
pub(crate) async fn create(
    docker: &Docker,
    project: &ComposeProject,
    base_labels: &BTreeMap<String, String>,
    compose_dir: &Path,
    out: &mut dyn Write,
) -> Result<()> {
    let stack = &project.stack;
    // Every image first: a stack whose image cannot be had is not started at all.
    let images: Vec<&str> = project.services.iter().map(|s| s.image.as_str()).collect();
    super::pull::ensure(docker, &images, out).await?;
    let network = NetworkCreateRequest {
        name: stack.clone(),
        driver: Some("bridge".into()),
        labels: Some(base_labels.clone().into_iter().collect()),
        ..Default::default()
    };
    // Docker allows two networks with one name, so "create unless it exists" must look first; a re-run after
    // an interruption reuses the network it made.
    match docker.inspect_network(stack, None::<bollard::query_parameters::InspectNetworkOptions>).await {
        Ok(existing) if existing.labels.as_ref().is_some_and(|l| l.get(MANAGED).is_some_and(|v| v == "true")) => {}
        Ok(_) => bail!("a network named {stack} exists that switchyard did not create; remove or rename it"),
        Err(_) => {
            docker.create_network(network).await.with_context(|| format!("could not create the network {stack}"))?;
        }
    }
    for volume in &project.volumes {
        let request = VolumeCreateRequest {
            name: Some(volume.docker_name.clone()),
            labels: Some(base_labels.clone().into_iter().collect()),
            ..Default::default()
        };
        docker
            .create_volume(request)
            .await
            .with_context(|| format!("could not create the volume {}", volume.docker_name))?;
    }
    for service in &project.services {
        for dep in &service.depends_on {
            let name = project.service(&dep.service).map(|s| s.container_name.clone()).unwrap_or_default();
            wait_for_condition(docker, &name, dep.condition, out).await?;
        }
        let mut labels = service.labels.clone();
        labels.extend(base_labels.clone());
        labels.insert("com.docker.compose.service".into(), service.name.clone());
        let body = container_body(service, stack, labels, compose_dir)?;
        let options = CreateContainerOptionsBuilder::default().name(&service.container_name).build();
        match docker.create_container(Some(options), body).await {
            Ok(_) => {}
            Err(e) if is_conflict(&e) => {}
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, message }) => {
                bail!("the image {} of service {} is not on the Docker host: {message}", service.image, service.name)
            }
            Err(e) => {
                return Err(e).with_context(|| format!("could not create the container {}", service.container_name));
            }
        }
        docker
            .start_container(&service.container_name, None::<StartContainerOptions>)
            .await
            .with_context(|| format!("could not start {}", service.container_name))?;
        writeln!(out, "      started {}", service.container_name)?;
    }
    Ok(())
}

fn container_body(
    service: &Service,
    stack: &str,
    labels: BTreeMap<String, String>,
    compose_dir: &Path,
) -> Result<ContainerCreateBody> {
    let mut mounts = Vec::new();
    for m in &service.mounts {
        let source = match (&m.kind, &m.source) {
            (MountKind::Bind, Some(src)) if m.relative => Some(compose_dir.join(src).to_string_lossy().into_owned()),
            (_, src) => src.clone(),
        };
        mounts.push(Mount {
            target: Some(m.target.clone()),
            source,
            typ: Some(match m.kind {
                MountKind::Volume => MountType::VOLUME,
                MountKind::Bind => MountType::BIND,
                MountKind::Tmpfs => MountType::TMPFS,
            }),
            read_only: Some(m.read_only),
            ..Default::default()
        });
    }
    let mut bindings: BTreeMap<String, Option<Vec<PortBinding>>> = BTreeMap::new();
    for p in &service.ports {
        bindings
            .entry(p.key())
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding { host_ip: p.host_ip.clone(), host_port: p.host_port.map(|h| h.to_string()) });
    }
    let restart = service.restart.map(|r| RestartPolicy {
        name: Some(match r.policy {
            Policy::No => RestartPolicyNameEnum::NO,
            Policy::Always => RestartPolicyNameEnum::ALWAYS,
            Policy::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
            Policy::UnlessStopped => RestartPolicyNameEnum::UNLESS_STOPPED,
        }),
        maximum_retry_count: r.max_retries.map(i64::from),
    });
    let healthcheck = service.healthcheck.as_ref().map(|h| HealthConfig {
        test: (!h.test.is_empty()).then(|| h.test.clone()),
        interval: h.interval.map(nanos),
        timeout: h.timeout.map(nanos),
        start_period: h.start_period.map(nanos),
        retries: h.retries.map(i64::from),
        ..Default::default()
    });
    let endpoint = EndpointSettings { aliases: Some(vec![service.name.clone()]), ..Default::default() };
    Ok(ContainerCreateBody {
        image: Some(service.image.clone()),
        entrypoint: service.entrypoint.clone(),
        cmd: service.command.clone(),
        env: Some(service.env.clone()),
        labels: Some(labels.into_iter().collect()),
        user: service.user.clone(),
        working_dir: service.working_dir.clone(),
        healthcheck,
        exposed_ports: (!bindings.is_empty()).then(|| bindings.keys().cloned().collect()),
        host_config: Some(HostConfig {
            mounts: (!mounts.is_empty()).then_some(mounts),
            port_bindings: (!bindings.is_empty()).then(|| bindings.into_iter().collect()),
            restart_policy: restart,
            network_mode: Some(stack.to_string()),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some([(stack.to_string(), endpoint)].into_iter().collect()),
        }),
        ..Default::default()
    })
}

/// Waits until a dependency satisfies its condition (at most two minutes).
async fn wait_for_condition(docker: &Docker, container: &str, condition: Condition, out: &mut dyn Write) -> Result<()> {
    if condition == Condition::ServiceStarted {
        return Ok(());
    }
    writeln!(out, "      waiting for {container} ({condition:?})")?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let info = docker.inspect_container(container, None).await?;
        let state = info.state.ok_or_else(|| anyhow!("{container} has no state"))?;
        let done = match condition {
            Condition::ServiceHealthy => {
                state.health.and_then(|h| h.status).is_some_and(|s| s == bollard::models::HealthStatusEnum::HEALTHY)
            }
            Condition::ServiceCompletedSuccessfully => {
                if state.running == Some(false) && state.exit_code.is_some_and(|c| c != 0) {
                    bail!("{container} exited with code {}", state.exit_code.unwrap_or_default());
                }
                state.running == Some(false) && state.exit_code == Some(0)
            }
            Condition::ServiceStarted => true,
        };
        if done {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{container} did not become {condition:?} within 2 minutes");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Removes the containers, volumes and network labelled as the stack's: nothing else.
pub(crate) async fn remove(docker: &Docker, stack: &str) -> Result<usize> {
    let filter: std::collections::HashMap<String, Vec<String>> =
        [("label".to_string(), vec![format!("{MANAGED}=true"), format!("{STACK}={stack}")])].into_iter().collect();
    let options = ListContainersOptionsBuilder::default().all(true).filters(&filter).build();
    let containers = docker.list_containers(Some(options)).await?;
    let mut removed = 0;
    for c in containers {
        let Some(id) = c.id else { continue };
        let options = RemoveContainerOptionsBuilder::default().force(true).v(false).build();
        docker
            .remove_container(&id, Some(options))
            .await
            .with_context(|| format!("could not remove container {id}"))?;
        removed += 1;
    }
    let volumes = docker.list_volumes(Some(ListVolumesOptionsBuilder::default().filters(&filter).build())).await?;
    for v in volumes.volumes.unwrap_or_default() {
        docker
            .remove_volume(&v.name, None::<bollard::query_parameters::RemoveVolumeOptions>)
            .await
            .with_context(|| format!("could not remove volume {}", v.name))?;
    }
    match docker.inspect_network(stack, None).await {
        Ok(n) if n.labels.as_ref().is_some_and(|l| l.get(MANAGED).is_some_and(|v| v == "true")) => {
            docker.remove_network(stack).await.with_context(|| format!("could not remove network {stack}"))?;
        }
        _ => {}
    }
    Ok(removed)
}

/// The stack's containers with their state and health: `(name, "running, healthy")`.
pub(crate) async fn containers(docker: &Docker, stack: &str) -> Result<Vec<(String, String)>> {
    let filter: std::collections::HashMap<String, Vec<String>> =
        [("label".to_string(), vec![format!("{MANAGED}=true"), format!("{STACK}={stack}")])].into_iter().collect();
    let options = ListContainersOptionsBuilder::default().all(true).filters(&filter).build();
    let mut out = Vec::new();
    for c in docker.list_containers(Some(options)).await? {
        let name = c.names.and_then(|n| n.first().cloned()).unwrap_or_default().trim_start_matches('/').to_string();
        let status = c.status.unwrap_or_default();
        out.push((name, status));
    }
    out.sort();
    Ok(out)
}

/// Connects the proxy container to a stack's network, unless it already is.
pub(crate) async fn connect_proxy(docker: &Docker, proxy: &str, network: &str) -> Result<()> {
    let request = NetworkConnectRequest { container: proxy.to_string(), ..Default::default() };
    match docker.connect_network(network, request).await {
        Ok(()) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 403 | 409, message })
            if message.contains("already exists") =>
        {
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("could not connect {proxy} to the network {network}")),
    }
}

pub(crate) async fn disconnect_proxy(docker: &Docker, proxy: &str, network: &str) -> Result<()> {
    let request = bollard::models::NetworkDisconnectRequest { container: proxy.to_string(), force: Some(true) };
    match docker.disconnect_network(network, request).await {
        Ok(()) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404 | 403, .. }) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("could not disconnect {proxy} from the network {network}")),
    }
}

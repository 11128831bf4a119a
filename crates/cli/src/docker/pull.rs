//! Images: an image missing on the Docker host is pulled before anything of a stack is created (the way
//! compose's default `pull_policy: missing` does), with progress shown while it downloads.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use bollard::Docker;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;

/// `name[:tag]` or `name@digest` split for the pull API, which pulls every tag of a name given without one.
pub(crate) fn reference(image: &str) -> (&str, &str) {
    if image.contains('@') {
        return (image, "");
    }
    // A colon after the last slash is the tag's (one before it is a registry's port).
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(i) => (&image[..last_slash + i], &image[last_slash + i + 1..]),
        None => (image, "latest"),
    }
}

/// Pulls every image in `images` that the host does not have, one after the other, showing progress.
pub(crate) async fn ensure(docker: &Docker, images: &[&str], out: &mut dyn Write) -> Result<()> {
    let mut seen = Vec::new();
    for image in images {
        if seen.contains(image) {
            continue;
        }
        seen.push(image);
        match docker.inspect_image(image).await {
            Ok(_) => continue,
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(e) => return Err(anyhow!(e).context(format!("could not look up the image {image}"))),
        }
        pull(docker, image, out).await?;
    }
    Ok(())
}

async fn pull(docker: &Docker, image: &str, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "      pulling {image} (not on the Docker host)")?;
    let (name, tag) = reference(image);
    let mut options = CreateImageOptionsBuilder::default().from_image(name);
    if !tag.is_empty() {
        options = options.tag(tag);
    }
    let options = options.build();
    let mut stream = docker.create_image(Some(options), None, None);
    // Per layer: (status, current bytes, total bytes).
    let mut layers: BTreeMap<String, (String, i64, i64)> = BTreeMap::new();
    let started = Instant::now();
    let mut last_report = Instant::now();
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(bollard::errors::Error::DockerStreamError { error }) => bail!(pull_failed(image, &error)),
            Err(bollard::errors::Error::DockerResponseServerError { message, .. }) => {
                bail!(pull_failed(image, &message))
            }
            Err(e) => return Err(anyhow!(e).context(format!("could not pull {image}"))),
        };
        if let Some(detail) = info.error_detail.and_then(|d| d.message) {
            bail!(pull_failed(image, &detail));
        }
        let (Some(id), Some(status)) = (info.id, info.status) else { continue };
        let (current, total) = info.progress_detail.map_or((0, 0), |p| (p.current.unwrap_or(0), p.total.unwrap_or(0)));
        let entry = layers.entry(id.clone()).or_insert_with(|| (String::new(), 0, 0));
        let changed = entry.0 != status;
        *entry = (status.clone(), current, total.max(entry.2));
        // A line when a layer changes phase ("Downloading", "Pull complete"), and the total at most once a second.
        if changed && !status.starts_with("Downloading") && !status.starts_with("Extracting") {
            writeln!(out, "      {id}: {status}")?;
        }
        if last_report.elapsed() >= Duration::from_secs(1) {
            let (done, all): (i64, i64) = layers.values().fold((0, 0), |(d, a), (_, c, t)| (d + c.min(t), a + t));
            if all > 0 {
                writeln!(out, "      {image}: {} of {} MB", done / 1_000_000, all / 1_000_000)?;
            }
            last_report = Instant::now();
        }
    }
    writeln!(out, "      pulled {image} in {:.1}s", started.elapsed().as_secs_f64())?;
    Ok(())
}

fn pull_failed(image: &str, why: &str) -> String {
    format!(
        "could not pull {image}: {why}; check the name and tag, or pull it on the Docker host (private registries: \
         `docker login` there and `docker pull {image}`)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_name_and_tag() {
        assert_eq!(reference("traefik"), ("traefik", "latest"));
        assert_eq!(reference("traefik:v3.5"), ("traefik", "v3.5"));
        assert_eq!(reference("127.0.0.1:5000/team/app"), ("127.0.0.1:5000/team/app", "latest"));
        assert_eq!(reference("127.0.0.1:5000/team/app:v1"), ("127.0.0.1:5000/team/app", "v1"));
        assert_eq!(reference("app@sha256:abc"), ("app@sha256:abc", ""));
    }
}

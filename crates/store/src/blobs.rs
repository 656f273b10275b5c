//! Files kept beside the database: deployment archives (received in chunks), and the built
//! code every instance starts from. Layout under the root:
//!
//! ```text
//! staging/<random>                              an upload being received
//! deployments/<project>/<deployment>/chunks/<start offset>
//! deployments/<project>/<deployment>/code.tar.gz the complete archive
//! deployments/<project>/<deployment>/code/       the built tree
//! ```
//!
//! Chunks are named by their byte offset, so the SDKs' two ways of marking the last chunk
//! (`end == size` and `end == size - 1`) need no special arithmetic: an upload is complete
//! when the chunks received cover every byte.

use std::io;
use std::path::{Path, PathBuf};

use functiond_types::id::{DeploymentId, ProjectId};
use rand::RngCore;
use tokio::fs;
use tokio::io::AsyncWriteExt;

#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
}

impl Blobs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// A fresh path for an incoming upload (the file is not created).
    pub async fn staging_path(&self) -> io::Result<PathBuf> {
        let dir = self.root.join("staging");
        fs::create_dir_all(&dir).await?;
        let mut name = [0u8; 12];
        rand::rng().fill_bytes(&mut name);
        let name: String = name.iter().map(|b| format!("{b:02x}")).collect();
        Ok(dir.join(name))
    }

    pub fn deployment_dir(&self, project: &ProjectId, deployment: &DeploymentId) -> PathBuf {
        self.root
            .join("deployments")
            .join(project.as_str())
            .join(deployment.as_str())
    }

    pub fn archive_path(&self, project: &ProjectId, deployment: &DeploymentId) -> PathBuf {
        self.deployment_dir(project, deployment).join("code.tar.gz")
    }

    pub fn code_dir(&self, project: &ProjectId, deployment: &DeploymentId) -> PathBuf {
        self.deployment_dir(project, deployment).join("code")
    }

    fn chunks_dir(&self, project: &ProjectId, deployment: &DeploymentId) -> PathBuf {
        self.deployment_dir(project, deployment).join("chunks")
    }

    /// Files a received chunk (a staged file) under its start offset.
    pub async fn keep_chunk(
        &self,
        staged: &Path,
        project: &ProjectId,
        deployment: &DeploymentId,
        start: u64,
    ) -> io::Result<()> {
        let dir = self.chunks_dir(project, deployment);
        fs::create_dir_all(&dir).await?;
        fs::rename(staged, dir.join(format!("{start:020}"))).await
    }

    /// The chunks received so far, as `(start, length)` in offset order.
    pub async fn chunks(
        &self,
        project: &ProjectId,
        deployment: &DeploymentId,
    ) -> io::Result<Vec<(u64, u64)>> {
        let dir = self.chunks_dir(project, deployment);
        let mut chunks = Vec::new();
        let mut entries = match fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(chunks),
            Err(error) => return Err(error),
        };
        while let Some(entry) = entries.next_entry().await? {
            let Some(start) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            chunks.push((start, entry.metadata().await?.len()));
        }
        chunks.sort_unstable();
        Ok(chunks)
    }

    /// Joins the chunks, in order, into the deployment's archive and removes them; returns
    /// the archive's size.
    pub async fn assemble(
        &self,
        project: &ProjectId,
        deployment: &DeploymentId,
    ) -> io::Result<u64> {
        let archive = self.archive_path(project, deployment);
        let partial = archive.with_extension("partial");
        let mut out = fs::File::create(&partial).await?;
        let mut size = 0;
        for (start, _) in self.chunks(project, deployment).await? {
            let path = self
                .chunks_dir(project, deployment)
                .join(format!("{start:020}"));
            let mut chunk = fs::File::open(&path).await?;
            size += tokio::io::copy(&mut chunk, &mut out).await?;
        }
        out.flush().await?;
        out.sync_all().await?;
        drop(out);
        fs::rename(&partial, &archive).await?;
        fs::remove_dir_all(self.chunks_dir(project, deployment)).await?;
        Ok(size)
    }

    /// Empties (or creates) the deployment's code dir, ready for a build.
    pub async fn fresh_code_dir(
        &self,
        project: &ProjectId,
        deployment: &DeploymentId,
    ) -> io::Result<PathBuf> {
        let dir = self.code_dir(project, deployment);
        remove_if_present(&dir).await?;
        fs::create_dir_all(&dir).await?;
        Ok(dir)
    }

    /// Removes everything kept for a deployment.
    pub async fn remove_deployment(
        &self,
        project: &ProjectId,
        deployment: &DeploymentId,
    ) -> io::Result<()> {
        remove_if_present(&self.deployment_dir(project, deployment)).await
    }

    /// Removes a staged upload that will not be kept.
    pub async fn discard(&self, staged: &Path) {
        if let Err(error) = fs::remove_file(staged).await
            && error.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %staged.display(), %error, "could not remove a staged upload");
        }
    }
}

async fn remove_if_present(dir: &Path) -> io::Result<()> {
    match fs::remove_dir_all(dir).await {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunks_assemble_in_offset_order() {
        let root = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(root.path());
        let project = ProjectId::parse("p").unwrap();
        let deployment = DeploymentId::parse("d").unwrap();
        for (start, text) in [(5u64, "world"), (0, "hello")] {
            let staged = blobs.staging_path().await.unwrap();
            fs::write(&staged, text).await.unwrap();
            blobs
                .keep_chunk(&staged, &project, &deployment, start)
                .await
                .unwrap();
        }
        assert_eq!(
            blobs.chunks(&project, &deployment).await.unwrap(),
            [(0, 5), (5, 5)]
        );
        assert_eq!(blobs.assemble(&project, &deployment).await.unwrap(), 10);
        let archive = fs::read(blobs.archive_path(&project, &deployment))
            .await
            .unwrap();
        assert_eq!(archive, b"helloworld");
        assert!(
            blobs
                .chunks(&project, &deployment)
                .await
                .unwrap()
                .is_empty()
        );
        blobs
            .remove_deployment(&project, &deployment)
            .await
            .unwrap();
        assert!(!blobs.deployment_dir(&project, &deployment).exists());
    }
}

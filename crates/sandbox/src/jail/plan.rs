//! Everything the sandbox's first process will do, decided in the parent: the mount table of
//! the new root, the files written into it, the ids, limits and the command. The child runs
//! between `clone` and `exec` in a copy of a multi-threaded server, where allocating could
//! deadlock on a lock some other thread held at the time of the clone, so every string it
//! needs is made here, and it only walks these lists and makes system calls.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::{Bind, Jail};
use crate::{SandboxError, Spec};

/// The sandbox's own user and group for the workload (the namespace's root only sets up).
pub(crate) const WORKLOAD_ID: u32 = 1000;

/// Mount attributes (`MOUNT_ATTR_*`).
pub(crate) const ATTR_RDONLY: u64 = 0x1;
pub(crate) const ATTR_NOSUID: u64 = 0x2;
pub(crate) const ATTR_NODEV: u64 = 0x4;

const PASSWD: &str = "root:x:0:0:root:/root:/usr/sbin/nologin\n\
sandbox:x:1000:1000:sandbox:/tmp:/usr/sbin/nologin\n\
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const GROUP: &str = "root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n";
const HOSTS: &str = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n";

/// The variables that point clients at the egress proxy.
const PROXY_VARIABLES: &[&str] = &["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"];

/// The most binds one sandbox may have (the child keeps their descriptors in a fixed array).
pub(crate) const MAX_BINDS: usize = 64;

/// Device nodes bound from the host into the sandbox's `/dev` (a user namespace may not
/// create device nodes itself).
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// One step of building the new root. Paths are absolute paths on the host, inside the
/// root's mount point.
#[derive(Debug)]
pub(crate) enum Op {
    Dir {
        path: CString,
        mode: u32,
    },
    /// An empty file to bind a file over.
    File {
        path: CString,
    },
    /// `source` is opened by the child while it still has the host's root ids (the sources
    /// may lie under directories only root may enter) into slot `slot`, then bound from there.
    Bind {
        source: CString,
        slot: usize,
        target: CString,
        attributes: u64,
    },
    Tmpfs {
        target: CString,
        options: CString,
    },
    Proc {
        target: CString,
    },
    Link {
        target: CString,
        path: CString,
    },
    Write {
        path: CString,
        contents: Vec<u8>,
    },
}

/// What the child needs, ready to use.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The empty host directory the new root's tmpfs is mounted on.
    pub(crate) root: CString,
    pub(crate) ops: Vec<Op>,
    pub(crate) hostname: CString,
    pub(crate) program: CString,
    pub(crate) argv: Vec<CString>,
    pub(crate) envp: Vec<CString>,
    pub(crate) cwd: CString,
    pub(crate) rlimits: Vec<(libc::__rlimit_resource_t, u64)>,
    pub(crate) loopback: bool,
}

pub(crate) fn c_string(text: impl AsRef<[u8]>) -> Result<CString, SandboxError> {
    CString::new(text.as_ref()).map_err(|_| SandboxError::Setup {
        message: format!(
            "a path, argument or variable contains a NUL byte: {:?}",
            String::from_utf8_lossy(text.as_ref())
        ),
    })
}

fn c_path(path: &Path) -> Result<CString, SandboxError> {
    c_string(path.as_os_str().as_bytes())
}

/// Builds the mount table and command for `spec` under `jail`, rooted at `root`.
pub(crate) fn plan(
    spec: &Spec,
    jail: &Jail,
    base: &[Bind],
    root: &Path,
) -> Result<Plan, SandboxError> {
    let mut builder = Builder {
        root: root.to_owned(),
        ops: Vec::new(),
        dirs: BTreeSet::new(),
        bound: Vec::new(),
        binds: 0,
    };
    builder.tmpfs("/tmp", &format!("size={},mode=1777", jail.tmp_size))?;
    builder.tmpfs("/dev", "size=64k,mode=755")?;
    for device in DEVICES {
        let path = Path::new("/dev").join(device);
        builder.ops.push(Op::File {
            path: builder.inside(&path)?,
        });
        builder.push_bind(c_path(&path)?, builder.inside(&path)?, ATTR_NOSUID)?;
    }
    for (link, target) in [
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
    ] {
        builder.link(Path::new(link), Path::new(target))?;
    }
    builder.tmpfs("/dev/shm", "size=16m,mode=1777")?;
    builder.dir(Path::new("/proc"))?;
    builder.ops.push(Op::Proc {
        target: builder.inside(Path::new("/proc"))?,
    });
    let mut binds: Vec<Placed> = Vec::new();
    for bind in base.iter().chain(&jail.binds) {
        match std::fs::symlink_metadata(&bind.path) {
            Ok(meta)
                if meta.file_type().is_symlink() && bind.path.parent() == Some(Path::new("/")) =>
            {
                // Merged-/usr systems: /bin, /lib... are links into /usr; keep them links.
                let target = std::fs::read_link(&bind.path).map_err(|e| setup(&bind.path, e))?;
                builder.link(&bind.path, &target)?;
                continue;
            }
            Ok(_) => {}
            Err(_) => continue,
        }
        let real = std::fs::canonicalize(&bind.path).map_err(|e| setup(&bind.path, e))?;
        let target = match &bind.inside {
            Some(inside) => inside.clone(),
            None => {
                if real != bind.path {
                    builder.link(&bind.path, &real)?;
                }
                real.clone()
            }
        };
        binds.push(Placed {
            source: real,
            target,
            writable: bind.writable,
        });
    }
    // Parents before children, so a nested bind lands inside the one that holds it.
    binds.sort_by(|a, b| a.target.cmp(&b.target));
    binds.dedup_by(|later, earlier| {
        later.target == earlier.target && {
            earlier.writable |= later.writable;
            true
        }
    });
    for bind in &binds {
        builder.bind(bind)?;
    }
    builder.dir(Path::new("/etc"))?;
    for (name, contents) in [("passwd", PASSWD), ("group", GROUP), ("hosts", HOSTS)] {
        let path = Path::new("/etc").join(name);
        if builder.covered(&path) {
            continue;
        }
        builder.ops.push(Op::Write {
            path: builder.inside(&path)?,
            contents: contents.as_bytes().to_vec(),
        });
    }
    let program = resolve(&spec.program, &spec.env)?;
    let mut argv = vec![c_path(&spec.program)?];
    for arg in &spec.args {
        argv.push(c_string(arg)?);
    }
    let mut env = spec.env.clone();
    if matches!(jail.network, super::Network::Egress(_)) {
        // The only way out; a variable of the function cannot point elsewhere.
        let proxy = format!("http://127.0.0.1:{}", super::egress::PORT);
        env.retain(|(key, _)| !PROXY_VARIABLES.contains(&key.as_str()));
        env.extend(
            PROXY_VARIABLES
                .iter()
                .map(|key| ((*key).to_owned(), proxy.clone())),
        );
    }
    let envp = env
        .iter()
        .map(|(key, value)| c_string(format!("{key}={value}")))
        .collect::<Result<Vec<_>, _>>()?;
    let cwd = spec.cwd.clone().unwrap_or_else(|| PathBuf::from("/"));
    Ok(Plan {
        root: c_path(root)?,
        ops: builder.ops,
        hostname: c_string("sandbox")?,
        program: c_path(&program)?,
        argv,
        envp,
        cwd: c_path(&cwd)?,
        rlimits: vec![
            (libc::RLIMIT_CORE, 0),
            (libc::RLIMIT_NOFILE, jail.open_files),
            (libc::RLIMIT_FSIZE, jail.file_size),
        ],
        loopback: jail.network.needs_loopback(),
    })
}

fn setup(path: &Path, error: std::io::Error) -> SandboxError {
    SandboxError::Setup {
        message: format!("cannot use {} in the sandbox: {error}", path.display()),
    }
}

/// The program's path as `execve` wants it: a bare name is looked up on the spec's `PATH`.
fn resolve(program: &Path, env: &[(String, String)]) -> Result<PathBuf, SandboxError> {
    if program.components().count() > 1 || program.is_absolute() {
        return Ok(program.to_owned());
    }
    let path = env
        .iter()
        .find(|(key, _)| key == "PATH")
        .map_or("/usr/local/bin:/usr/bin:/bin", |(_, value)| value.as_str());
    path.split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| SandboxError::Setup {
            message: format!("{} was not found on the PATH", program.display()),
        })
}

/// A bind as mounted: from where, to where.
struct Placed {
    source: PathBuf,
    target: PathBuf,
    writable: bool,
}

struct Builder {
    root: PathBuf,
    ops: Vec<Op>,
    /// Directories created in the new root so far.
    dirs: BTreeSet<PathBuf>,
    /// Bind targets so far: what lies under them comes from the host.
    bound: Vec<(PathBuf, bool)>,
    binds: usize,
}

impl Builder {
    fn inside(&self, path: &Path) -> Result<CString, SandboxError> {
        let relative = path.strip_prefix("/").unwrap_or(path);
        c_path(&self.root.join(relative))
    }

    /// Whether `path` already exists in the new root through a bind.
    fn covered(&self, path: &Path) -> bool {
        self.bound.iter().any(|(bound, _)| path.starts_with(bound))
    }

    fn dir(&mut self, path: &Path) -> Result<(), SandboxError> {
        let mut at = PathBuf::from("/");
        for component in path.components() {
            if let Component::Normal(name) = component {
                at.push(name);
                if self.covered(&at) || !self.dirs.insert(at.clone()) {
                    continue;
                }
                self.ops.push(Op::Dir {
                    path: self.inside(&at)?,
                    mode: 0o755,
                });
            }
        }
        Ok(())
    }

    fn parent(&mut self, path: &Path) -> Result<(), SandboxError> {
        match path.parent() {
            Some(parent) => self.dir(parent),
            None => Ok(()),
        }
    }

    fn tmpfs(&mut self, path: &str, options: &str) -> Result<(), SandboxError> {
        self.dir(Path::new(path))?;
        self.ops.push(Op::Tmpfs {
            target: self.inside(Path::new(path))?,
            options: c_string(options)?,
        });
        Ok(())
    }

    fn link(&mut self, path: &Path, target: &Path) -> Result<(), SandboxError> {
        if self.covered(path) || self.dirs.contains(path) {
            return Ok(());
        }
        self.parent(path)?;
        self.ops.push(Op::Link {
            target: c_path(target)?,
            path: self.inside(path)?,
        });
        Ok(())
    }

    fn bind(&mut self, bind: &Placed) -> Result<(), SandboxError> {
        let path = &bind.target;
        let inherited = self.covered(path);
        // The innermost bind holding this path decides what it already looks like.
        let holder_writable = self
            .bound
            .iter()
            .rev()
            .find(|(bound, _)| path.starts_with(bound))
            .is_some_and(|(_, writable)| *writable);
        if inherited && !bind.writable && !holder_writable && bind.source == *path {
            // Already visible, read-only, through the bind that holds it.
            return Ok(());
        }
        if !inherited {
            if bind.source.is_dir() {
                self.dir(path)?;
            } else {
                self.parent(path)?;
                self.ops.push(Op::File {
                    path: self.inside(path)?,
                });
            }
        }
        let mut attributes = ATTR_NOSUID | ATTR_NODEV;
        if !bind.writable {
            attributes |= ATTR_RDONLY;
        }
        self.push_bind(c_path(&bind.source)?, self.inside(path)?, attributes)?;
        self.bound.push((path.clone(), bind.writable));
        Ok(())
    }

    fn push_bind(
        &mut self,
        source: CString,
        target: CString,
        attributes: u64,
    ) -> Result<(), SandboxError> {
        if self.binds == MAX_BINDS {
            return Err(SandboxError::Setup {
                message: format!("a sandbox may have at most {MAX_BINDS} binds"),
            });
        }
        self.ops.push(Op::Bind {
            source,
            slot: self.binds,
            target,
            attributes,
        });
        self.binds += 1;
        Ok(())
    }
}

//! Runs a private PostgreSQL server for Crier from the PostgreSQL binaries
//! installed on the machine, for when the user gives no `DATABASE_URL`.
//!
//! The cluster lives in `<data_dir>/pg`, its unix socket in `<data_dir>/run`
//! and its log in `<data_dir>/pg.log`. The server listens on the unix socket
//! only (no TCP port), which is why the cluster can use `trust` auth: only
//! users who can enter the 0700 socket directory can connect.
//!
//! Everything here is synchronous (`std::process`), so it can run before any
//! async runtime exists and from plain scripts.
//!
//! Several processes may use one data dir's server at once (`crier serve` and
//! an admin command, say). Each holds a shared lock on `<data_dir>/pg.users`
//! for as long as its [`EmbeddedPostgres`] lives, and [`EmbeddedPostgres::release`]
//! stops the server only when the process that started it leaves last: not
//! while another Crier process holds its share, nor while other clients are
//! connected (`pg_stat_activity`). A starter that leaves while others still
//! use the server hands it over (`<data_dir>/pg.handed-over`): the last of them
//! to leave stops it. A server that was running before any Crier process
//! adopted it (`crier-embedded-pg start`, the test cluster) is never stopped
//! by a release, only by [`EmbeddedPostgres::stop`] or [`stop_data_dir`].

/// A shared cluster for test suites, with fresh databases: empty, or copies of a template prepared once.
pub mod test_cluster;

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

/// The port number only names the socket file (`.s.PGSQL.5432`); there is no
/// TCP listener, so clusters in different data dirs never clash on it.
const PORT: u16 = 5432;
/// The bootstrap superuser created by initdb, and the role Crier connects as.
const SUPERUSER: &str = "crier";
/// The database Crier uses.
const DATABASE: &str = "crier";
/// `sun_path` is 108 bytes on Linux, including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;
/// Where Debian/Ubuntu install the server binaries, one dir per major version.
const DEFAULT_LIB_ROOT: &str = "/usr/lib/postgresql";
/// The binaries without which we cannot run a cluster at all.
const SERVER_BINARIES: [&str; 3] = ["initdb", "pg_ctl", "postgres"];
/// How many log lines to show when the server fails to start.
const LOG_TAIL_LINES: usize = 20;
/// How long to wait for a server that is starting up or recovering, or for
/// processes of a crashed server to exit.
const WAIT_LIMIT: Duration = Duration::from_secs(60);
/// Poll interval while waiting on other processes.
const POLL: Duration = Duration::from_millis(50);
/// How long [`EmbeddedPostgres::release`] gives the connections it sees to go away.
const CLIENTS_SETTLE: Duration = Duration::from_secs(1);

/// Characters left as they are in URL components: RFC 3986 "unreserved".
const URL_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// How to run the embedded server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Whether the server makes writes durable. Defaults to `true`; tests pass
    /// `false` (fsync, synchronous_commit and full_page_writes off, initdb
    /// `--no-sync`), which is much faster but can lose data on an OS crash.
    pub fsync: bool,
    /// Whether to load `pg_stat_statements` (statement counts for `crier bench`), counting the
    /// statements clients send, not those triggers and foreign-key checks run inside them. Off
    /// by default: it costs a little on every statement.
    pub track_statements: bool,
}

impl Default for Options {
    /// Durable settings: anything else would risk the user's data.
    fn default() -> Self {
        Self { fsync: true, track_statements: false }
    }
}

/// Why the embedded PostgreSQL could not be started or stopped. Each message
/// says what the user can do about it.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    /// No directory with `initdb`, `pg_ctl` and `postgres` was found.
    #[error(
        "PostgreSQL is not installed (looked for initdb, pg_ctl and postgres in {searched}): \
         install it with `apt-get install postgresql` (Debian/Ubuntu), \
         or set DATABASE_URL to use an existing server"
    )]
    NotInstalled {
        /// The places that were searched, for the message.
        searched: String,
    },

    /// Running as root, but there is no `postgres` user to run the server as.
    #[error(
        "running as root, but there is no `postgres` system user to run PostgreSQL as \
         (PostgreSQL refuses to run as root): install the postgresql package, which creates it, \
         run Crier as an ordinary user, or set DATABASE_URL to use an existing server"
    )]
    NoPostgresUser,

    /// The socket path would not fit in a `sockaddr_un`.
    #[error(
        "the PostgreSQL socket path {} is {len} bytes long, over the {MAX_SOCKET_PATH}-byte limit \
         for unix sockets: use a data directory with a shorter path (CRIER_DATA_DIR)",
        path.display()
    )]
    SocketPathTooLong {
        /// The socket file path that is too long.
        path: PathBuf,
        /// Its length in bytes.
        len: usize,
    },

    /// A file system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A PostgreSQL tool exited with an error.
    #[error("`{command}` failed ({status}):\n{output}")]
    CommandFailed {
        /// The command line (program and arguments; never the environment).
        command: String,
        /// How it exited.
        status: String,
        /// Its stdout and stderr.
        output: String,
    },

    /// `pg_ctl start` failed; the server log usually says why.
    #[error(
        "PostgreSQL failed to start:\n{output}\nlast lines of {}:\n{log_tail}",
        log.display()
    )]
    StartFailed {
        /// pg_ctl's stdout and stderr.
        output: String,
        /// The server log file.
        log: PathBuf,
        /// Its last lines.
        log_tail: String,
    },

    /// A server runs on the cluster but does not accept connections.
    #[error(
        "a PostgreSQL server (pid {pid}) is running on {} but does not accept connections on {}: \
         stop it (`crier-embedded-pg stop <data dir>` or `kill {pid}`) and retry",
        pg_dir.display(), socket_dir.display()
    )]
    Unresponsive {
        /// The postmaster's pid.
        pid: i32,
        /// The cluster directory.
        pg_dir: PathBuf,
        /// Where we expected its socket.
        socket_dir: PathBuf,
    },

    /// Processes of a crashed server still hold the cluster.
    #[error(
        "processes of an earlier PostgreSQL server on {} are still running (pids {pids}): \
         stop them (`kill <pid>`) and retry",
        pg_dir.display()
    )]
    LeftoverProcesses {
        /// The cluster directory.
        pg_dir: PathBuf,
        /// Their pids, comma-separated.
        pids: String,
    },
}

type Result<T, E = EmbeddedPgError> = std::result::Result<T, E>;

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedPgError {
    let context = context.into();
    move |source| EmbeddedPgError::Io { context, source }
}

/// The files and directories of one Crier data dir.
#[derive(Debug, Clone)]
struct Layout {
    data_dir: PathBuf,
    /// Where the cluster, its socket and its log live: the data dir itself, or, when we run as
    /// root and the server user cannot reach the data dir, a directory of its own under
    /// [`RELOCATED_CLUSTERS`].
    cluster_root: PathBuf,
    pg_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    lock_file: PathBuf,
    /// Shared-locked by every process using the server (see the module documentation).
    users_file: PathBuf,
    /// Present while the process that started the server has left it to the others using it.
    handed_over_file: PathBuf,
}

impl Layout {
    /// `data_dir` must be absolute: the socket path ends up in URLs and
    /// pg_ctl changes directory.
    fn new(data_dir: PathBuf, cluster_root: PathBuf) -> Self {
        Self {
            pg_dir: cluster_root.join("pg"),
            socket_dir: cluster_root.join("run"),
            log_file: cluster_root.join("pg.log"),
            // The lock stays in the data dir: only Crier's own processes (as root) take it.
            lock_file: data_dir.join("pg.lock"),
            users_file: data_dir.join("pg.users"),
            handed_over_file: data_dir.join("pg.handed-over"),
            data_dir,
            cluster_root,
        }
    }

    /// Resolves `data_dir` the same way whether or not it exists yet, so
    /// `url`, `start` and `stop` agree on where the cluster and its socket are.
    fn resolve(data_dir: &Path, server_user: Option<&ServerUser>) -> Result<Self> {
        let abs = match fs::canonicalize(data_dir) {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::path::absolute(data_dir).map_err(io_err(format!("cannot resolve {}", data_dir.display())))?
            }
            Err(e) => return Err(io_err(format!("cannot resolve {}", data_dir.display()))(e)),
        };
        let cluster_root = match server_user {
            Some(user) if blocking_ancestor(&abs, user)?.is_some() => relocated_cluster_root(&abs),
            _ => abs.clone(),
        };
        Ok(Self::new(abs, cluster_root))
    }

    fn relocated(&self) -> bool {
        self.cluster_root != self.data_dir
    }

    fn pid_file(&self) -> PathBuf {
        self.pg_dir.join("postmaster.pid")
    }

    fn socket_file(&self) -> PathBuf {
        self.socket_dir.join(format!(".s.PGSQL.{PORT}"))
    }

    fn socket_lock_file(&self) -> PathBuf {
        self.socket_dir.join(format!(".s.PGSQL.{PORT}.lock"))
    }
}

/// The unprivileged user that runs the server when we are root.
#[derive(Debug, Clone)]
struct ServerUser {
    uid: u32,
    gid: u32,
    home: PathBuf,
}

/// initdb, pg_ctl and postgres refuse to run as root, so as root we run them
/// as the `postgres` system user that the distribution's package creates.
fn server_user() -> Result<Option<ServerUser>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name("postgres") {
        Ok(Some(u)) => Ok(Some(ServerUser { uid: u.uid.as_raw(), gid: u.gid.as_raw(), home: u.dir })),
        Ok(None) => Err(EmbeddedPgError::NoPostgresUser),
        Err(e) => Err(io_err("cannot look up the `postgres` user")(e.into())),
    }
}

/// A PostgreSQL server running on a Crier data dir, started or adopted by
/// [`EmbeddedPostgres::start`].
///
/// Dropping it does not stop the server (the CLI starts a server and exits);
/// call [`EmbeddedPostgres::release`] when done with it (it stops the server
/// unless others still use it), or [`EmbeddedPostgres::stop`] to stop it
/// whoever uses it.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bindir: PathBuf,
    layout: Layout,
    server_user: Option<ServerUser>,
    adopted: bool,
    /// This process's share of `pg.users`, held while the handle lives (the
    /// lock goes with the file when it is dropped or the process dies).
    users: Option<File>,
}

/// What [`EmbeddedPostgres::release`] did with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// This process started the server (or it was handed over) and nothing
    /// else used it any more: it is stopped.
    Stopped,
    /// The server was no longer running.
    NotRunning,
    /// The server was already running when this process adopted it, and
    /// whoever started it is still responsible for it: it keeps running.
    LeftToItsStarter,
    /// Others still use the server: it keeps running for them. If this
    /// process was responsible for stopping it, the last of them to release
    /// it will.
    StillInUse {
        /// Other Crier processes hold it (started or adopted it, not released yet).
        crier_processes: bool,
        /// Other client connections (`pg_stat_activity`), e.g. `psql`, `crier status`.
        other_clients: u64,
    },
}

impl std::fmt::Display for Released {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Released::Stopped => write!(f, "stopped"),
            Released::NotRunning => write!(f, "was not running"),
            Released::LeftToItsStarter => write!(f, "left running: another process started it and stops it"),
            Released::StillInUse { crier_processes: true, .. } => write!(f, "left running: other Crier processes use it"),
            Released::StillInUse { other_clients, .. } => {
                write!(f, "left running: {other_clients} other client connection(s) use it")
            }
        }
    }
}

impl EmbeddedPostgres {
    /// Starts (or adopts an already running) PostgreSQL server for Crier's
    /// data dir (e.g. `./.crier`), creating the cluster and the `crier`
    /// database on first use. The cluster lives in `<data_dir>/pg`, the unix
    /// socket in `<data_dir>/run`; as root, when the `postgres` user cannot
    /// reach the data dir (a clone under `/root`, say), they live under
    /// [`RELOCATED_CLUSTERS`] instead and `<data_dir>/pg` links there.
    ///
    /// Safe to call from several processes or threads at once on the same
    /// data dir: they are serialized by a lock on `<data_dir>/pg.lock`, and
    /// all but the first adopt the server the first one started.
    pub fn start(data_dir: &Path, options: &Options) -> Result<Self> {
        let bindir = find_bindir()?;
        let server_user = server_user()?;
        // Checked before creating anything, and again below once symlinks
        // are resolved.
        check_socket_path(&Layout::resolve(data_dir, server_user.as_ref())?)?;
        fs::create_dir_all(data_dir).map_err(io_err(format!("cannot create {}", data_dir.display())))?;
        let layout = Layout::resolve(data_dir, server_user.as_ref())?;
        check_socket_path(&layout)?;
        if layout.relocated() {
            // E.g. root running Crier from a clone under /root (mode 0700): the postgres user
            // cannot enter it, so the cluster lives where it can, and a link in the data dir
            // shows where.
            fs::create_dir_all(&layout.cluster_root).map_err(io_err(format!("cannot create {}", layout.cluster_root.display())))?;
            for dir in layout.cluster_root.ancestors().take_while(|d| d.starts_with(RELOCATED_CLUSTERS)) {
                fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).map_err(io_err(format!("cannot chmod {}", dir.display())))?;
            }
            let link = layout.data_dir.join("pg");
            if fs::symlink_metadata(&link).is_err() {
                std::os::unix::fs::symlink(&layout.pg_dir, &link).map_err(io_err(format!("cannot create {}", link.display())))?;
            }
        }

        // Held until the end of this function: initdb, stale-file cleanup and
        // pg_ctl start must not interleave with another starter's.
        let _lock = lock(&layout)?;
        let mut pg = Self { bindir, layout, server_user, adopted: false, users: None };
        pg.prepare_dirs()?;
        if !pg.layout.pg_dir.join("PG_VERSION").is_file() {
            pg.init_cluster(options)?;
        }
        if pg.running_postmaster()?.is_some() {
            pg.adopted = true;
        } else {
            pg.remove_stale_files()?;
            pg.wait_for_leftover_processes()?;
            // A fresh server is this process's to stop; an old hand-over is void.
            remove_if_exists(&pg.layout.handed_over_file)?;
            pg.start_server(options)?;
        }
        pg.ensure_database(DATABASE)?;
        // Taken before the start lock is let go, so that a starter releasing the server
        // meanwhile (it needs that lock) sees this process as a user.
        pg.users = Some(share(&pg.layout)?);
        Ok(pg)
    }

    /// A libpq/sqlx URL for the `crier` database over the unix socket, e.g.
    /// `postgres://crier@localhost:5432/crier?host=%2Fabs%2Fpath%2Frun`.
    /// libpq and sqlx treat a `host` starting with `/` as a socket directory.
    pub fn database_url(&self) -> String {
        self.database_url_for(DATABASE)
    }

    /// Same as [`database_url`](Self::database_url), for another database
    /// on this server (tests create one database per test).
    pub fn database_url_for(&self, database: &str) -> String {
        url_for(&self.layout.socket_dir, database)
    }

    /// The directory holding the server's unix socket (`<data_dir>/run`).
    pub fn socket_dir(&self) -> &Path {
        &self.layout.socket_dir
    }

    /// The directory of the PostgreSQL binaries in use, e.g. for running
    /// `psql` or `pg_dump` against this server.
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// Whether `start` found the server already running and adopted it
    /// instead of starting one. [`release`](Self::release) leaves an adopted
    /// server running (unless it was handed over); [`stop`](Self::stop) still
    /// stops it.
    pub fn adopted(&self) -> bool {
        self.adopted
    }

    /// Done with the server: stops it if this process is responsible for it
    /// and nobody else uses it, otherwise leaves it running (see the module
    /// documentation), and says which.
    ///
    /// Responsible: this process started it, or the process that did left
    /// it to the remaining users. Nobody else: no other Crier process holds
    /// its share of `pg.users`, and `pg_stat_activity` shows no client
    /// connection but this process's own, recognised by
    /// `own_application_name` (its pool may have closed its connections an
    /// instant before their server processes exit). All of this happens
    /// under the start lock, so no other process adopts the server between
    /// the checks and the stop: one that starts meanwhile finds it stopped
    /// and starts it again.
    pub fn release(mut self, own_application_name: Option<&str>) -> Result<Released> {
        let _lock = lock(&self.layout)?;
        let responsible = !self.adopted || self.layout.handed_over_file.exists();
        if !responsible {
            // Dropping the handle (below) gives up this process's share.
            return Ok(Released::LeftToItsStarter);
        }
        match read_pid(&self.layout.pid_file()) {
            Some(pid) if self.is_our_postmaster(pid) => {}
            _ => {
                remove_if_exists(&self.layout.handed_over_file)?;
                return Ok(Released::NotRunning);
            }
        }
        // Anyone else's shared lock makes the exclusive one fail. (flock converts
        // this handle's own shared lock; a failed conversion drops it, which is
        // what releasing means anyway.)
        let users = match self.users.take() {
            Some(users) => users,
            None => open_users_file(&self.layout)?,
        };
        let crier_processes = match users.try_lock() {
            Ok(()) => false,
            Err(fs::TryLockError::WouldBlock) => true,
            Err(fs::TryLockError::Error(e)) => return Err(io_err(format!("cannot lock {}", self.layout.users_file.display()))(e)),
        };
        let other_clients = if crier_processes { 0 } else { self.lasting_clients(own_application_name)? };
        if crier_processes || other_clients > 0 {
            if !self.adopted {
                File::create(&self.layout.handed_over_file)
                    .map_err(io_err(format!("cannot create {}", self.layout.handed_over_file.display())))?;
            }
            return Ok(Released::StillInUse { crier_processes, other_clients });
        }
        self.stop_locked()?;
        Ok(Released::Stopped)
    }

    /// [`other_clients`](Self::other_clients), looked at again for up to [`CLIENTS_SETTLE`]
    /// while there are some: the server process of a client that has just disconnected (a
    /// `crier status` that just ended) takes a moment to exit, and should not keep the server up.
    fn lasting_clients(&self, own_application_name: Option<&str>) -> Result<u64> {
        let deadline = Instant::now() + CLIENTS_SETTLE;
        loop {
            let clients = self.other_clients(own_application_name)?;
            if clients == 0 || Instant::now() >= deadline {
                return Ok(clients);
            }
            std::thread::sleep(POLL);
        }
    }

    /// Client connections to the server other than this process's own (named
    /// `own_application_name`) and the one asking.
    fn other_clients(&self, own_application_name: Option<&str>) -> Result<u64> {
        let mut cmd = self.command("psql", false);
        cmd.arg("-X")
            .arg("-h")
            .arg(&self.layout.socket_dir)
            .args(["-p", &PORT.to_string(), "-U", SUPERUSER, "-d", "postgres", "-tAc"])
            .arg(format!(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' \
                 AND pid <> pg_backend_pid() AND application_name IS DISTINCT FROM {}",
                quote_sql_literal(own_application_name.unwrap_or(""))
            ));
        let (desc, out) = run(&mut cmd)?;
        if !out.status.success() {
            return Err(command_failed(desc, &out));
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|_| command_failed(desc, &out))
    }

    /// Stops the server cleanly (`pg_ctl stop -m fast -w`). Idempotent: a
    /// server that is not running is not an error.
    pub fn stop(&self) -> Result<()> {
        if !self.layout.pid_file().exists() {
            return Ok(());
        }
        let _lock = lock(&self.layout)?;
        self.stop_locked()
    }

    fn stop_locked(&self) -> Result<()> {
        let Some(pid) = read_pid(&self.layout.pid_file()) else {
            return Ok(());
        };
        if !self.is_our_postmaster(pid) {
            // Stale file: pg_ctl would signal whatever process has that pid now.
            remove_if_exists(&self.layout.pid_file())?;
            return Ok(());
        }
        let mut cmd = self.command("pg_ctl", true);
        cmd.arg("-D").arg(&self.layout.pg_dir).args(["stop", "-m", "fast", "-w"]);
        let (desc, out) = run(&mut cmd)?;
        if out.status.success() || !self.layout.pid_file().exists() || !is_alive(pid) {
            remove_if_exists(&self.layout.handed_over_file)?;
            return Ok(());
        }
        Err(command_failed(desc, &out))
    }

    /// A command for a PostgreSQL tool from our bindir. With `as_server`, it
    /// runs as the server user when we are root (initdb and pg_ctl refuse
    /// root), with a HOME and cwd that user can access.
    fn command(&self, program: &str, as_server: bool) -> Command {
        let mut cmd = Command::new(self.bindir.join(program));
        // PGPORT, PGHOST, PGDATA, PGOPTIONS... from the user's environment
        // would redirect our tools and server; everything here is explicit.
        for (name, _) in std::env::vars_os() {
            if name.as_bytes().starts_with(b"PG") {
                cmd.env_remove(name);
            }
        }
        cmd.stdin(Stdio::null());
        if as_server && let Some(user) = &self.server_user {
            // std drops supplementary groups (setgroups(0)) when root sets a uid.
            cmd.uid(user.uid)
                .gid(user.gid)
                .env("HOME", &user.home)
                .env("USER", "postgres")
                .env("LOGNAME", "postgres")
                .current_dir(&self.layout.pg_dir);
        }
        cmd
    }

    fn chown_to_server(&self, path: &Path) -> Result<()> {
        if let Some(user) = &self.server_user {
            std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
                .map_err(io_err(format!("cannot chown {} to postgres", path.display())))?;
        }
        Ok(())
    }

    /// Creates the socket dir (0700: trust auth relies on it) and the log
    /// file, owned by the server user, and lets that user into the data dir.
    fn prepare_dirs(&self) -> Result<()> {
        let l = &self.layout;
        if self.server_user.is_some() {
            let root = &l.cluster_root;
            let meta = fs::metadata(root).map_err(io_err(format!("cannot stat {}", root.display())))?;
            let mode = meta.permissions().mode();
            if mode & 0o001 == 0 {
                fs::set_permissions(root, fs::Permissions::from_mode(mode | 0o001))
                    .map_err(io_err(format!("cannot chmod {}", root.display())))?;
            }
        }
        fs::create_dir_all(&l.socket_dir).map_err(io_err(format!("cannot create {}", l.socket_dir.display())))?;
        fs::set_permissions(&l.socket_dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err(format!("cannot chmod {}", l.socket_dir.display())))?;
        self.chown_to_server(&l.socket_dir)?;
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&l.log_file)
            .map_err(io_err(format!("cannot create {}", l.log_file.display())))?;
        self.chown_to_server(&l.log_file)?;
        Ok(())
    }

    /// Runs initdb into a fresh pg dir. A pg dir without PG_VERSION is left
    /// over from an interrupted initdb and is redone from scratch.
    fn init_cluster(&self, options: &Options) -> Result<()> {
        let pg_dir = &self.layout.pg_dir;
        if fs::symlink_metadata(pg_dir).is_ok() {
            fs::remove_dir_all(pg_dir).map_err(io_err(format!("cannot remove the partially initialised cluster {}", pg_dir.display())))?;
        }
        fs::create_dir(pg_dir).map_err(io_err(format!("cannot create {}", pg_dir.display())))?;
        fs::set_permissions(pg_dir, fs::Permissions::from_mode(0o700)).map_err(io_err(format!("cannot chmod {}", pg_dir.display())))?;
        self.chown_to_server(pg_dir)?;

        let mut cmd = self.command("initdb", true);
        cmd.arg("-D").arg(pg_dir).args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale"]);
        if !options.fsync {
            cmd.arg("--no-sync");
        }
        let (desc, out) = run(&mut cmd)?;
        if !out.status.success() {
            return Err(command_failed(desc, &out));
        }
        Ok(())
    }

    /// Whether `pid` is a live postgres process that can be our postmaster.
    /// Guards against a pid reused by an unrelated process after a crash.
    fn is_our_postmaster(&self, pid: i32) -> bool {
        if !is_alive(pid) || process_comm(pid).as_deref() != Some("postgres") {
            return false;
        }
        // The postmaster chdirs to its data dir. If we cannot see its cwd and
        // are not root, it belongs to another user, so it is not our server
        // (ours runs as us).
        match fs::read_link(format!("/proc/{pid}/cwd")) {
            Ok(cwd) => cwd == self.layout.pg_dir,
            Err(_) => self.server_user.is_some(),
        }
    }

    /// The pid of a server already running on our cluster and answering on
    /// our socket, which we then adopt; `None` if there is none (any
    /// postmaster.pid is then stale).
    fn running_postmaster(&self) -> Result<Option<i32>> {
        let Some(pid) = read_pid(&self.layout.pid_file()) else {
            return Ok(None);
        };
        if !self.is_our_postmaster(pid) {
            return Ok(None);
        }
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            let mut cmd = self.command("pg_isready", false);
            cmd.arg("-h").arg(&self.layout.socket_dir).args(["-p", &PORT.to_string(), "-U", SUPERUSER, "-d", "postgres", "-t", "10"]);
            let (_, out) = run(&mut cmd)?;
            match out.status.code() {
                Some(0) => return Ok(Some(pid)),
                // 1 = rejecting connections: starting up, recovering or
                // shutting down; wait for it to settle.
                Some(1) if Instant::now() < deadline && is_alive(pid) => {
                    std::thread::sleep(POLL);
                }
                _ if !is_alive(pid) => return Ok(None),
                _ => {
                    return Err(EmbeddedPgError::Unresponsive {
                        pid,
                        pg_dir: self.layout.pg_dir.clone(),
                        socket_dir: self.layout.socket_dir.clone(),
                    });
                }
            }
        }
    }

    /// Removes the lock files of a server that is gone: postgres would take a
    /// live pid in them (e.g. reused by another process) for a running server.
    fn remove_stale_files(&self) -> Result<()> {
        remove_if_exists(&self.layout.pid_file())?;
        remove_if_exists(&self.layout.socket_lock_file())?;
        remove_if_exists(&self.layout.socket_file())?;
        Ok(())
    }

    /// After a postmaster crash its children exit on their own, but until
    /// they do they keep the old shared memory attached and a new postmaster
    /// refuses to start. Wait for them (they chdir'd into the pg dir).
    fn wait_for_leftover_processes(&self) -> Result<()> {
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            let pids = processes_in(&self.layout.pg_dir);
            if pids.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(EmbeddedPgError::LeftoverProcesses {
                    pg_dir: self.layout.pg_dir.clone(),
                    pids: pids.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", "),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    fn start_server(&self, options: &Options) -> Result<()> {
        let l = &self.layout;
        let mut cmd = self.command("pg_ctl", true);
        cmd.arg("-D")
            .arg(&l.pg_dir)
            .arg("-l")
            .arg(&l.log_file)
            .args(["-w", "-t", "60", "-o"])
            .arg(server_options(&l.socket_dir, options))
            .arg("start");
        let (_, out) = run(&mut cmd)?;
        if out.status.success() {
            return Ok(());
        }
        Err(EmbeddedPgError::StartFailed {
            output: combined_output(&out),
            log: l.log_file.clone(),
            log_tail: log_tail(&l.log_file, LOG_TAIL_LINES),
        })
    }

    /// Creates `database` unless it exists. psql runs as the current user:
    /// root may connect to the postgres-owned socket, and auth is trust.
    fn ensure_database(&self, database: &str) -> Result<()> {
        let mut cmd = self.command("psql", false);
        cmd.arg("-X")
            .arg("-h")
            .arg(&self.layout.socket_dir)
            .args(["-p", &PORT.to_string(), "-U", SUPERUSER, "-d", "postgres", "-tAc"])
            .arg(format!("SELECT 1 FROM pg_database WHERE datname={}", quote_sql_literal(database)));
        let (desc, out) = run(&mut cmd)?;
        if !out.status.success() {
            return Err(command_failed(desc, &out));
        }
        if String::from_utf8_lossy(&out.stdout).trim() == "1" {
            return Ok(());
        }
        let mut cmd = self.command("createdb", false);
        cmd.arg("-h").arg(&self.layout.socket_dir).args(["-p", &PORT.to_string(), "-U", SUPERUSER, "--", database]);
        let (desc, out) = run(&mut cmd)?;
        if !out.status.success() {
            return Err(command_failed(desc, &out));
        }
        Ok(())
    }
}

/// Stops the cluster in `data_dir` if one runs there. For scripts that
/// start the server in one process and stop it from another. A data dir
/// without a running server (or without a cluster at all) is not an error.
pub fn stop_data_dir(data_dir: &Path) -> Result<()> {
    let server_user = server_user()?;
    let layout = Layout::resolve(data_dir, server_user.as_ref())?;
    if !layout.pid_file().exists() {
        return Ok(());
    }
    let pg = EmbeddedPostgres { bindir: find_bindir()?, server_user, layout, adopted: true, users: None };
    pg.stop()
}

/// The database URL [`EmbeddedPostgres::database_url`] returns for
/// `data_dir`, without starting anything (for scripts, and the CLI's `url`).
pub fn database_url_for_data_dir(data_dir: &Path) -> Result<String> {
    let layout = Layout::resolve(data_dir, server_user()?.as_ref())?;
    Ok(url_for(&layout.socket_dir, DATABASE))
}

fn url_for(socket_dir: &Path, database: &str) -> String {
    format!(
        "postgres://{SUPERUSER}@localhost:{PORT}/{}?host={}",
        percent_encode(database.as_bytes(), URL_COMPONENT),
        percent_encode(socket_dir.as_os_str().as_bytes(), URL_COMPONENT),
    )
}

fn find_bindir() -> Result<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    choose_bindir(from_pg_config.as_deref(), Path::new(DEFAULT_LIB_ROOT))
}

fn has_server_binaries(dir: &Path) -> bool {
    SERVER_BINARIES.iter().all(|b| dir.join(b).is_file())
}

/// `pg_config --bindir` if it has the server binaries (it may point at a
/// client-only install), else the newest `<lib_root>/<N>/bin` that has them.
fn choose_bindir(pg_config_bindir: Option<&Path>, lib_root: &Path) -> Result<PathBuf> {
    if let Some(dir) = pg_config_bindir
        && has_server_binaries(dir)
    {
        return Ok(dir.to_path_buf());
    }
    let mut found: Vec<(Vec<u64>, PathBuf)> = fs::read_dir(lib_root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = parse_version(entry.file_name().to_str()?)?;
            let bin = entry.path().join("bin");
            has_server_binaries(&bin).then_some((version, bin))
        })
        .collect();
    // Numeric, so 15 is newer than 9.6.
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return Ok(bin);
    }
    let mut searched = Vec::new();
    if let Some(dir) = pg_config_bindir {
        searched.push(format!("{} (from pg_config)", dir.display()));
    } else {
        searched.push("pg_config on PATH".to_string());
    }
    searched.push(format!("{}/<version>/bin", lib_root.display()));
    Err(EmbeddedPgError::NotInstalled { searched: searched.join(", ") })
}

/// "15" -> [15], "9.6" -> [9, 6]; anything else is not a version dir.
fn parse_version(name: &str) -> Option<Vec<u64>> {
    name.split('.').map(|p| p.parse().ok()).collect()
}

fn check_socket_path(layout: &Layout) -> Result<()> {
    let path = layout.socket_file();
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH {
        return Err(EmbeddedPgError::SocketPathTooLong { path, len });
    }
    Ok(())
}

/// Where clusters go whose data dir the server user cannot reach (as root only).
pub const RELOCATED_CLUSTERS: &str = "/var/lib/crier/clusters";

/// As root, the server user must be able to walk down to the data dir. We
/// fix the data dir itself (it is ours) but not its ancestors (they are the
/// user's): returns the outermost existing one that blocks, if any.
fn blocking_ancestor(data_dir: &Path, user: &ServerUser) -> Result<Option<PathBuf>> {
    let mut ancestors: Vec<&Path> = data_dir.ancestors().skip(1).collect();
    ancestors.reverse();
    for dir in ancestors {
        let meta = match fs::metadata(dir) {
            Ok(meta) => meta,
            // Not created yet: we create it with the default 0755.
            Err(e) if e.kind() == io::ErrorKind::NotFound => break,
            Err(e) => return Err(io_err(format!("cannot stat {}", dir.display()))(e)),
        };
        // std clears supplementary groups when switching uid, so only the
        // user's primary group counts.
        let bit = if meta.uid() == user.uid {
            0o100
        } else if meta.gid() == user.gid {
            0o010
        } else {
            0o001
        };
        if meta.mode() & bit == 0 {
            return Ok(Some(dir.to_path_buf()));
        }
    }
    Ok(None)
}

/// A stable directory name for a data dir's relocated cluster: FNV-1a of its path (stable
/// across Rust versions, unlike std's hasher), so every start finds the same cluster.
fn relocated_cluster_root(data_dir: &Path) -> PathBuf {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in data_dir.as_os_str().as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    Path::new(RELOCATED_CLUSTERS).join(format!("{hash:016x}"))
}

/// Takes the exclusive start/stop lock of the data dir; released on drop.
/// flock locks belong to the open file, so this serializes threads of one
/// process as well as separate processes.
fn lock(layout: &Layout) -> Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&layout.lock_file)
        .map_err(io_err(format!("cannot open {}", layout.lock_file.display())))?;
    file.lock().map_err(io_err(format!("cannot lock {}", layout.lock_file.display())))?;
    Ok(file)
}

fn open_users_file(layout: &Layout) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&layout.users_file)
        .map_err(io_err(format!("cannot open {}", layout.users_file.display())))
}

/// Takes this process's shared lock on `pg.users`: while it is held, a
/// releasing starter leaves the server running. Released on drop (or when
/// the process dies, however it dies).
fn share(layout: &Layout) -> Result<File> {
    let file = open_users_file(layout)?;
    file.lock_shared().map_err(io_err(format!("cannot lock {}", layout.users_file.display())))?;
    Ok(file)
}

/// The `-o` argument of pg_ctl. pg_ctl pastes it into a `/bin/sh -c` command
/// line, so each value is single-quoted for the shell.
fn server_options(socket_dir: &Path, options: &Options) -> OsString {
    // unix_socket_directories is a comma-separated list: double-quote the
    // path so commas or spaces in it survive.
    let mut dir = b"\"".to_vec();
    for &b in socket_dir.as_os_str().as_bytes() {
        if b == b'"' {
            dir.push(b'"');
        }
        dir.push(b);
    }
    dir.push(b'"');

    let mut opts = format!("-p {PORT} -k ").into_bytes();
    opts.extend(shell_quote(&dir));
    opts.extend_from_slice(b" -c listen_addresses=''");
    if !options.fsync {
        opts.extend_from_slice(b" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
    }
    if options.track_statements {
        opts.extend_from_slice(b" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top");
    }
    std::os::unix::ffi::OsStringExt::from_vec(opts)
}

/// POSIX shell single-quoting: `it's` -> `'it'\''s'`.
fn shell_quote(s: &[u8]) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in s {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

fn quote_sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Runs a command to completion, capturing its output. Returns a printable
/// description (program and arguments only) for error messages.
fn run(cmd: &mut Command) -> Result<(String, Output)> {
    let mut desc = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        desc.push(' ');
        desc.push_str(&arg.to_string_lossy());
    }
    let out = cmd.output().map_err(io_err(format!("cannot run `{desc}`")))?;
    Ok((desc, out))
}

fn combined_output(out: &Output) -> String {
    let mut s = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.trim().is_empty() {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(err.trim_end());
    }
    s
}

fn command_failed(command: String, out: &Output) -> EmbeddedPgError {
    EmbeddedPgError::CommandFailed { command, status: out.status.to_string(), output: combined_output(out) }
}

fn log_tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read the log: {e})"),
    }
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(format!("cannot remove {}", path.display()))(e)),
        _ => Ok(()),
    }
}

/// The pid on the first line of a postmaster.pid, if any.
fn read_pid(pid_file: &Path) -> Option<i32> {
    let text = fs::read_to_string(pid_file).ok()?;
    let pid: i32 = text.lines().next()?.trim().parse().ok()?;
    (pid > 0).then_some(pid)
}

/// Whether `pid` is a running process. A zombie counts as dead: a killed
/// postmaster may stay a zombie when its (re)parent does not reap it, and
/// `kill(pid, 0)` would still succeed on it.
fn is_alive(pid: i32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) S ...": comm may contain spaces and parentheses.
    let state = stat.rfind(')').and_then(|i| stat[i + 1..].trim_start().chars().next());
    !matches!(state, None | Some('Z' | 'X' | 'x'))
}

fn process_comm(pid: i32) -> Option<String> {
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end_matches('\n').to_string())
}

/// Live postgres processes whose cwd is `pg_dir`.
fn processes_in(pg_dir: &Path) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            process_comm(pid).as_deref() == Some("postgres")
                && is_alive(pid)
                && fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == pg_dir)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_bindir(dir: &Path) {
        fs::create_dir_all(dir).unwrap();
        for b in SERVER_BINARIES {
            fs::write(dir.join(b), "").unwrap();
        }
    }

    #[test]
    fn not_installed_message_says_how_to_fix() {
        let root = tempfile::tempdir().unwrap();
        // A version dir without the server binaries (client-only) does not count.
        fs::create_dir_all(root.path().join("15/bin")).unwrap();
        fs::write(root.path().join("15/bin/psql"), "").unwrap();
        let err = choose_bindir(None, root.path()).unwrap_err();
        assert!(matches!(err, EmbeddedPgError::NotInstalled { .. }));
        let msg = err.to_string();
        assert!(msg.starts_with("PostgreSQL is not installed"), "{msg}");
        assert!(msg.contains("apt-get install postgresql"), "{msg}");
        assert!(msg.contains("DATABASE_URL"), "{msg}");
        assert!(msg.contains(&root.path().display().to_string()), "{msg}");

        let missing = root.path().join("nonexistent");
        let err = choose_bindir(Some(&root.path().join("15/bin")), &missing).unwrap_err();
        assert!(err.to_string().contains("(from pg_config)"), "{err}");
    }

    #[test]
    fn picks_newest_version_numerically() {
        let root = tempfile::tempdir().unwrap();
        for v in ["9.6", "10", "15", "notaversion"] {
            fake_bindir(&root.path().join(v).join("bin"));
        }
        fs::create_dir_all(root.path().join("16")).unwrap(); // no bin
        assert_eq!(choose_bindir(None, root.path()).unwrap(), root.path().join("15/bin"));
    }

    #[test]
    fn prefers_pg_config_bindir_when_complete() {
        let root = tempfile::tempdir().unwrap();
        fake_bindir(&root.path().join("15/bin"));
        let custom = root.path().join("custom");
        fake_bindir(&custom);
        assert_eq!(choose_bindir(Some(&custom), root.path()).unwrap(), custom);
        let incomplete = root.path().join("incomplete");
        fs::create_dir_all(&incomplete).unwrap();
        assert_eq!(choose_bindir(Some(&incomplete), root.path()).unwrap(), root.path().join("15/bin"));
    }

    #[test]
    fn url_percent_encodes_socket_dir_and_database() {
        assert_eq!(url_for(Path::new("/abs/my path/run"), "crier"), "postgres://crier@localhost:5432/crier?host=%2Fabs%2Fmy%20path%2Frun");
        assert_eq!(url_for(Path::new("/r"), "t?x"), "postgres://crier@localhost:5432/t%3Fx?host=%2Fr");
    }

    #[test]
    fn server_options_quote_for_shell_and_guc_list() {
        let o = server_options(Path::new("/a b/it's,\"x\"/run"), &Options { fsync: true, track_statements: false });
        assert_eq!(o.to_str().unwrap(), r#"-p 5432 -k '"/a b/it'\''s,""x""/run"' -c listen_addresses=''"#);
        let o = server_options(Path::new("/r"), &Options { fsync: false, track_statements: true });
        assert!(
            o.to_str()
                .unwrap()
                .ends_with("-c full_page_writes=off -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top")
        );
    }

    #[test]
    fn socket_path_limit() {
        let long = PathBuf::from(format!("/{}", "x".repeat(100)));
        let err = check_socket_path(&Layout::new(long.clone(), long)).unwrap_err();
        assert!(err.to_string().contains("shorter path"), "{err}");
        assert!(check_socket_path(&Layout::new(PathBuf::from("/tmp/c"), PathBuf::from("/tmp/c"))).is_ok());
    }

    #[test]
    fn own_process_is_alive_and_not_postgres() {
        let me = std::process::id() as i32;
        assert!(is_alive(me));
        assert_ne!(process_comm(me).as_deref(), Some("postgres"));
        assert!(!is_alive(i32::MAX));
    }
}

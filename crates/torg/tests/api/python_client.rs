//! The official Python client, `retailcrm==5.3.0` from PyPI, unmodified, drives the scenarios in
//! `tests/python/` (`crm_scenario.py`: orders, customers, store, telephony; `crm_definitions_scenario.py`:
//! users, integration modules, custom fields, notes, reference books, settings;
//! `crm_tasks_costs_scenario.py`: tasks, their history and comments, costs; `crm_corporate_scenario.py`:
//! corporate customers and their addresses, companies, contacts, notes and history;
//! `crm_loyalty_scenario.py`: loyalty programmes, accounts, bonuses and orders spending them, segments,
//! SMS verification; `crm_delivery_files_scenario.py`: delivery integration, shipments and files;
//! `crm_payment_scenario.py`: payment integration, invoices for payments) against torg on each backend.
//!
//! The client lives in its own virtual environment, `target/retailcrm-venv` (under `CARGO_TARGET_DIR`
//! when set), made with `python3 -m venv` and `pip install retailcrm==5.3.0` on first use. It is built in
//! a private folder and renamed into place once complete, so concurrent test processes never see half an
//! environment; within this binary a `OnceLock` makes the two backends wait for one build. If the
//! environment cannot be made, the test fails: it never skips.

use crate::common::both;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use torg_domain::telephony::{User, UserGroup};

/// The client version the scenario is written against.
const CLIENT: &str = "retailcrm==5.3.0";
/// Marks a finished environment (written last, inside the folder before it is renamed into place).
const READY: &str = "torg-ready";
/// Longest a scenario may run.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(300);

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                // Relative to the workspace root, as cargo reads it.
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(dir)
            }
        }
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
    }
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) { venv.join("Scripts").join("python.exe") } else { venv.join("bin").join("python") }
}

/// Runs a command to completion; its output on failure.
fn run(what: &str, cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: cannot start {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Makes a complete environment at `dir`.
fn build_venv(dir: &Path) -> Result<(), String> {
    run("python3 -m venv", Command::new("python3").args(["-m", "venv"]).arg(dir))?;
    let python = venv_python(dir);
    run(
        "pip install retailcrm==5.3.0",
        Command::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", CLIENT])
            .env("PIP_NO_INPUT", "1"),
    )?;
    run(
        "checking the installed client",
        Command::new(&python).args([
            "-c",
            "import importlib.metadata as m, retailcrm; v = m.version('retailcrm'); \
             assert v == '5.3.0', v; assert hasattr(retailcrm, 'v5')",
        ]),
    )?;
    std::fs::write(dir.join(READY), CLIENT).map_err(|e| format!("writing the ready marker: {e}"))
}

/// The environment's folder, made if it is not there yet.
fn ensure_venv() -> Result<PathBuf, String> {
    let target = target_dir();
    std::fs::create_dir_all(&target).map_err(|e| format!("creating {}: {e}", target.display()))?;
    let venv = target.join("retailcrm-venv");
    let ready = |dir: &Path| std::fs::read_to_string(dir.join(READY)).is_ok_and(|v| v == CLIENT);
    if ready(&venv) && venv_python(&venv).exists() {
        return Ok(venv);
    }
    // Build privately, then rename into place: the rename is atomic, so whoever renames first wins and
    // everyone else uses that one.
    let building =
        target.join(format!("retailcrm-venv.building-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()));
    let built = build_venv(&building);
    if let Err(e) = built {
        let _ = std::fs::remove_dir_all(&building);
        return Err(e);
    }
    if venv.exists() && !ready(&venv) {
        // Left over from an interrupted older layout: never complete, safe to replace.
        let _ = std::fs::remove_dir_all(&venv);
    }
    match std::fs::rename(&building, &venv) {
        Ok(()) => {}
        Err(e) => {
            let _ = std::fs::remove_dir_all(&building);
            if !ready(&venv) {
                return Err(format!("moving the environment to {}: {e}", venv.display()));
            }
        }
    }
    Ok(venv)
}

/// The environment, made once per test binary; a failure fails every test that needs it.
fn venv() -> PathBuf {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match VENV.get_or_init(ensure_venv) {
        Ok(dir) => dir.clone(),
        Err(e) => panic!("cannot provide the Python client {CLIENT}: {e}"),
    }
}

fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs a scenario script of `tests/python`; exit status, stdout, stderr.
fn run_scenario(python: &Path, name: &str, args: &[String]) -> (Option<i32>, String, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(name);
    let mut child = Command::new(python)
        .arg(&script)
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} {}: {e}", python.display(), script.display()));
    let out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    let deadline = Instant::now() + SCENARIO_TIMEOUT;
    let status = loop {
        match child.try_wait().expect("wait for the scenario") {
            Some(status) => break status.code(),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                let (out, err) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
                panic!("the scenario ran over {SCENARIO_TIMEOUT:?}\n--- stdout\n{out}\n--- stderr\n{err}");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    (status, out.join().unwrap_or_default(), err.join().unwrap_or_default())
}

both!(scenario, |app: crate::common::TestApp| async move {
    let python = tokio::task::spawn_blocking(|| venv_python(&venv())).await.expect("venv task");
    // A second key, to see `apiKey.current` false for changes it makes; a manager for the telephony lookup.
    let other = app.key_with(&["customer_read", "customer_write", "order_read", "order_write"], &[]).await;
    let manager = app
        .store
        .create_user(&User {
            first_name: "Mira".into(),
            last_name: "Manager".into(),
            email: Some("mira@example.com".into()),
            code: Some("101".into()),
            active: true,
            ..Default::default()
        })
        .await
        .expect("create a manager");
    let args = vec![app.base.clone(), app.key.clone(), other, manager.id.to_string()];
    run_to_the_end(python, "crm_scenario.py", args).await;
});

/// Runs a scenario and fails the test unless it printed `scenario ok`.
async fn run_to_the_end(python: PathBuf, name: &'static str, args: Vec<String>) {
    let (status, stdout, stderr) =
        tokio::task::spawn_blocking(move || run_scenario(&python, name, &args)).await.expect("scenario task");
    assert!(
        status == Some(0) && stdout.lines().any(|l| l.trim() == "scenario ok"),
        "the Python client's {name} failed (exit {status:?})\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
}

both!(definitions_scenario, |app: crate::common::TestApp| async move {
    let python = tokio::task::spawn_blocking(|| venv_python(&venv())).await.expect("venv task");
    for (code, name, manager) in [("manager", "Менеджеры", true), ("director", "Руководители", false)]
    {
        let attrs = serde_json::json!({"grantedSites": ["default"]}).as_object().cloned().unwrap_or_default();
        let group =
            UserGroup { code: code.into(), name: name.into(), is_manager: manager, attrs, ..Default::default() };
        app.store.put_user_group(&group).await.expect("a user group");
    }
    let manager = User {
        first_name: "Mira".into(),
        last_name: "Manager".into(),
        active: true,
        is_manager: true,
        groups: vec!["manager".into()],
        ..Default::default()
    };
    let manager = app.store.create_user(&manager).await.expect("a manager");
    let admin = User {
        first_name: "Oleg".into(),
        last_name: "Admin".into(),
        active: false,
        is_admin: true,
        groups: vec!["director".into(), "manager".into()],
        ..Default::default()
    };
    let admin = app.store.create_user(&admin).await.expect("an administrator");
    let args = vec![app.base.clone(), app.key.clone(), manager.id.to_string(), admin.id.to_string()];
    run_to_the_end(python, "crm_definitions_scenario.py", args).await;
});

both!(tasks_costs_scenario, |app: crate::common::TestApp| async move {
    use torg_domain::history::Actor;
    use torg_domain::task::TaskPatch;
    let python = tokio::task::spawn_blocking(|| venv_python(&venv())).await.expect("venv task");
    let user =
        |first: &str| User { first_name: first.into(), last_name: "Test".into(), active: true, ..Default::default() };
    let performer = app.store.create_user(&user("Mira")).await.expect("a performer").id;
    let other = app.store.create_user(&user("Oleg")).await.expect("another user").id;
    // The API has no method that writes comments: a task with two, written as the performer.
    let sites = vec!["default".to_string()];
    let patch =
        TaskPatch { text: Some("Review the contract".into()), performer: Some(performer), ..Default::default() };
    let task = app.store.create_task(&patch, None, Actor::User(Some(performer)), &sites).await.expect("a task");
    for text in ["first", "second"] {
        app.store.add_task_comment(task.id, Actor::User(Some(performer)), text, &sites).await.expect("a comment");
    }
    let args = vec![app.base.clone(), app.key.clone(), performer.to_string(), other.to_string(), task.id.to_string()];
    run_to_the_end(python, "crm_tasks_costs_scenario.py", args).await;
});

both!(loyalty_scenario, |app: crate::common::TestApp| async move {
    use torg_domain::loyalty::{LoyaltyDefinition, SegmentDefinition};
    let python = tokio::task::spawn_blocking(|| venv_python(&venv())).await.expect("venv task");
    // Programmes and segments are defined outside the API, as RetailCRM defines them in its UI.
    let def = LoyaltyDefinition::from_json(&serde_json::json!({
        "site": "default", "name": "Club", "expiryDays": 30, "maxChargePercent": 50,
        "levels": [{"name": "Basic", "sum": 0, "percent": 5}, {"name": "Silver", "sum": 1000, "percent": 10}]
    }))
    .expect("a programme");
    let loyalty = app.store.define_loyalty(&def).await.expect("define the programme").id;
    let segment =
        SegmentDefinition::from_json(&serde_json::json!({"code": "vip", "name": "VIP", "filter": {"vip": 1}}))
            .expect("a segment");
    app.store.define_segment(&segment).await.expect("define the segment");
    // The client has no method that sends a code: sent here, read back from the store.
    let doc = serde_json::json!({"phone": "+7 900 123-45-67"}).to_string();
    let (status, body) = app.post("/api/v5/verification/sms/send", &[("verification", &doc)]).await;
    assert_eq!(status, 200, "{body}");
    let check = body["verification"]["checkId"].as_str().expect("checkId").to_string();
    let code = app.store.sms_code(&check).await.expect("read the code").expect("a code");
    let args = vec![app.base.clone(), app.key.clone(), loyalty.to_string(), check, code];
    run_to_the_end(python, "crm_loyalty_scenario.py", args).await;
});

both!(delivery_files_scenario, |app: crate::common::TestApp| async move {
    let python = tokio::task::spawn_blocking(|| venv_python(&venv())).await.expect("venv task");
    let args = vec![app.base.clone(), app.key.clone()];
    run_to_the_end(python, "crm_delivery_files_scenario.py", args).await;
});

both!(corporate_scenario, |app: crate::common::TestApp| async move {
    let python = tokio::task::spawn_blocking(|| venv_python(&venv())).await.expect("venv task");
    let manager = User { first_name: "Mira".into(), last_name: "Manager".into(), active: true, ..Default::default() };
    let manager = app.store.create_user(&manager).await.expect("a manager").id;
    let args = vec![app.base.clone(), app.key.clone(), manager.to_string()];
    run_to_the_end(python, "crm_corporate_scenario.py", args).await;
});

both!(payment_scenario, |app: crate::common::TestApp| async move {
    let python = tokio::task::spawn_blocking(|| venv_python(&venv())).await.expect("venv task");
    // The site's billing merchant is set up outside the CRM API (`torg billing set`).
    crate::billing_support::merchant(&app, None).await;
    let args = vec![app.base.clone(), app.key.clone()];
    run_to_the_end(python, "crm_payment_scenario.py", args).await;
});

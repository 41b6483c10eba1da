//! The administrator at the observatory's web pages, as a browser would be:
//! signed in through the login form, holding the session cookie and the
//! session's CSRF token, posting the lists' forms (`/listes/depot`). Every
//! request is curl from the router's namespace, the only one that reaches
//! the observatory, with the test's CA.
//!
//! It only ever talks to the lab's observatory, and never prints the
//! password or the session's secrets.

use std::path::PathBuf;
use std::process::Command;

use super::lab::{Lab, progress};
use super::observatory::{ADMIN, ADMIN_PASSWORD, Observatory};

/// Where the CSRF token sits in a signed-in page's forms.
const CSRF_MARKER: &str = "name=\"csrf\" value=\"";

/// A signed-in administrator.
pub struct Admin {
    ns: String,
    url: String,
    ca_file: PathBuf,
    /// curl's cookie jar: the session cookie.
    jar: PathBuf,
    csrf: String,
    /// Where form fields too long for an argument are written.
    dir: PathBuf,
}

/// What the observatory answered.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Admin {
    /// Signs in through `/connexion` and reads the CSRF token from
    /// `/compte`.
    pub fn sign_in(lab: &Lab, observatory: &Observatory) -> Admin {
        let mut admin = Admin {
            ns: lab.ns_rtr().to_owned(),
            url: observatory.url(),
            ca_file: observatory.ca_file.clone(),
            jar: lab.path("admin-cookies.txt"),
            csrf: String::new(),
            dir: lab.path("admin-forms"),
        };
        std::fs::create_dir_all(&admin.dir).expect("create the forms' directory");
        let answer = admin.post(
            "/connexion",
            &[("email", ADMIN), ("password", ADMIN_PASSWORD)],
        );
        assert_eq!(
            answer.status, 303,
            "sign-in of {ADMIN} refused: {}",
            answer.body
        );
        let account = admin.page("/compte");
        let start = account
            .find(CSRF_MARKER)
            .unwrap_or_else(|| panic!("no CSRF token on /compte:\n{account}"))
            + CSRF_MARKER.len();
        let end = account[start..]
            .find('"')
            .map(|len| start + len)
            .expect("an unterminated CSRF token");
        admin.csrf = account[start..end].to_owned();
        progress(&format!("administrator {ADMIN} signed in"));
        admin
    }

    /// Uploads `content` as list `name` of `kind` (`threat`, `allow`), for
    /// `commune` (an allowlist's INSEE code) or the whole territory (""),
    /// through the upload form; panics unless the observatory takes it.
    pub fn upload_list(&self, name: &str, kind: &str, commune: &str, content: &str) {
        let answer = self.post_form(
            "/listes/depot",
            &[
                ("name", name),
                ("kind", kind),
                ("commune", commune),
                ("content", content),
            ],
        );
        assert_eq!(
            answer.status, 303,
            "upload of list {name} refused:\n{}",
            answer.body
        );
        let scope = if commune.is_empty() {
            "the territory".to_owned()
        } else {
            format!("commune {commune}")
        };
        progress(&format!(
            "administrator uploaded {kind} list {name} for {scope} ({} entries)",
            content.lines().filter(|l| !l.starts_with('#')).count()
        ));
    }

    /// A page the administrator sees; panics unless it is served.
    pub fn page(&self, path: &str) -> String {
        let answer = self.curl(path, &[]);
        assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
        answer.body
    }

    /// Posts a form with the session's CSRF token.
    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all)
    }

    /// Posts urlencoded `fields`, each from a file (lists may be long, and
    /// the password must not show in the process list).
    fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut args = Vec::new();
        for (index, (key, value)) in fields.iter().enumerate() {
            let file = self.dir.join(format!("field-{index}"));
            std::fs::write(&file, value).expect("write a form field");
            args.push("--data-urlencode".to_owned());
            args.push(format!("{key}@{}", file.display()));
        }
        let answer = self.curl(path, &args);
        // The fields held the password and the CSRF token.
        for index in 0..fields.len() {
            let _ = std::fs::remove_file(self.dir.join(format!("field-{index}")));
        }
        answer
    }

    /// curl with the session's cookie jar; redirects are not followed.
    fn curl(&self, path: &str, args: &[String]) -> Answer {
        let url = format!("{}{path}", self.url);
        let output = Command::new("ip")
            .args(["netns", "exec", &self.ns, "curl", "-sS", "--max-time", "20"])
            .arg("--cacert")
            .arg(&self.ca_file)
            .arg("-b")
            .arg(&self.jar)
            .arg("-c")
            .arg(&self.jar)
            .args(args)
            .args(["-w", "\n%{http_code}", &url])
            .output()
            .unwrap_or_else(|e| panic!("cannot run curl for {path}: {e}"));
        let text = String::from_utf8_lossy(&output.stdout);
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        assert!(
            output.status.success(),
            "curl {path} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Answer {
            status: status.trim().parse().unwrap_or(0),
            body: body.to_owned(),
        }
    }
}

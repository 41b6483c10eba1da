//! `vigie demo`'s awareness path (issue 11): a training link for two
//! communes, and quizzes answered through the real public pages, so the
//! commune's results, the staff's overview and the API show something.
//!
//! What it must never do: bypass the router to write completions (they go
//! through `POST /formation/{link}/{module}` as an agent's browser sends
//! them).

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use vigie_server::Db;
use vigie_server::territory::CommuneCode;

/// (commune, completions): Saint-Étienne, whose mayor's account the demo
/// prints, has started; Firminy only just.
const COMMUNES: [(&str, usize); 2] = [("42218", 11), ("42095", 4)];

/// Creates the links and answers the quizzes.
pub async fn fill(db: &Db, app: &Router) -> anyhow::Result<()> {
    let catalogue = vigie_server::elearning::catalogue()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("modules de formation")?;
    let now = chrono::Utc::now().timestamp_millis();
    for (code, completions) in COMMUNES {
        let commune = CommuneCode::parse(code).context("code de commune")?;
        let (_, token) = vigie_server::elearning::create_link(db, &commune, None, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for n in 0..completions {
            let Some(module) = catalogue.modules.get(n % catalogue.modules.len()) else {
                continue;
            };
            // Mostly right, one in three answers wrong on one question.
            let form: Vec<String> = module
                .quiz
                .iter()
                .enumerate()
                .map(|(index, question)| {
                    let wrong = n % 3 == 0 && index == n % module.quiz.len();
                    let choice = if wrong {
                        (question.answer + 1) % question.choices.len()
                    } else {
                        question.answer
                    };
                    format!("q{}={}", index + 1, choice + 1)
                })
                .collect();
            let request = Request::post(format!("/formation/{token}/{}", module.id))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form.join("&")))?;
            let response = app.clone().oneshot(request).await?;
            if response.status() != StatusCode::OK {
                bail!("quiz {} refused ({})", module.id, response.status());
            }
        }
    }
    Ok(())
}

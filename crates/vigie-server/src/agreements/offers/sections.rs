//! The sections of an offer file (`[duration]`, `[renewal]`, `[notice]`,
//! `[eligibility]`, `[[steps]]`, `[processing]`): their raw fields and
//! their rules, each refusal naming the line and the field.
//!
//! What it must never do: let through a section `dates` could not follow
//! (a step after an unknown step, a window closing before it opens).

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::parse::{File, empty, is_id};
use super::{
    Completion, DeliverableKind, Duration, Eligibility, MAX_ITEMS, MAX_MONTHS, MAX_POPULATION,
    MAX_TOTAL_MONTHS, Notice, NoticeEffect, OfferError, Party, Processing, Renewal, Step, Word,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDuration {
    rule: Spanned<String>,
    months: Option<Spanned<i64>>,
    ends_with: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRenewal {
    rule: Spanned<String>,
    period_months: Option<Spanned<i64>>,
    max_total_months: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotice {
    months: Spanned<i64>,
    by: Spanned<Vec<Spanned<String>>>,
    effect: Spanned<String>,
    article: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEligibility {
    commune_population_below: Option<Spanned<i64>>,
    epci_population_below: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    id: Spanned<String>,
    title: Spanned<String>,
    after: Option<Spanned<String>>,
    from_months: Spanned<i64>,
    to_months: Spanned<i64>,
    #[serde(default = "empty")]
    deliverables: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProcessing {
    name: Spanned<String>,
    controller: Spanned<String>,
    processor: Spanned<String>,
    #[serde(default = "empty")]
    sub_processors: Spanned<Vec<Spanned<String>>>,
    purposes: Spanned<Vec<Spanned<String>>>,
    data: Spanned<Vec<Spanned<String>>>,
    people: Spanned<Vec<Spanned<String>>>,
    recipients: Spanned<Vec<Spanned<String>>>,
    retention: Spanned<String>,
    article: Spanned<String>,
}

impl File<'_> {
    pub(super) fn duration(&self, raw: &Spanned<RawDuration>) -> Result<Duration, OfferError> {
        let section = raw.get_ref();
        let rule = section.rule.get_ref().trim();
        let months = |field| {
            section
                .months
                .as_ref()
                .ok_or_else(|| self.fail(raw.span(), field, "manquant pour cette règle"))
                .and_then(|m| self.months(m, field, 1, MAX_MONTHS))
        };
        let forbid = |value: Option<Range<usize>>, field: &str| match value {
            Some(span) => Err(self.fail(span, field, format!("sans objet pour « {rule} »"))),
            None => Ok(()),
        };
        match rule {
            "fixed" => {
                forbid(section.ends_with.as_ref().map(Spanned::span), "ends_with")?;
                Ok(Duration::Fixed {
                    months: months("months")?,
                })
            }
            "end_of_calendar_year" => {
                forbid(section.months.as_ref().map(Spanned::span), "months")?;
                forbid(section.ends_with.as_ref().map(Spanned::span), "ends_with")?;
                Ok(Duration::EndOfCalendarYear)
            }
            "at_most" => {
                let ends_with = section.ends_with.as_ref().ok_or_else(|| {
                    self.fail(
                        raw.span(),
                        "ends_with",
                        "manquant : l'événement qui termine plus tôt",
                    )
                })?;
                Ok(Duration::AtMost {
                    months: months("months")?,
                    ends_with: self.word::<Completion>(ends_with, "ends_with")?,
                })
            }
            _ => Err(self.fail(
                section.rule.span(),
                "rule",
                format!("« {rule} » inconnu : « fixed », « end_of_calendar_year », « at_most »"),
            )),
        }
    }

    pub(super) fn renewal(
        &self,
        raw: Option<&Spanned<RawRenewal>>,
        duration: Duration,
    ) -> Result<Renewal, OfferError> {
        let Some(raw) = raw else {
            return Ok(Renewal::None);
        };
        let section = raw.get_ref();
        match section.rule.get_ref().trim() {
            "none" => match (&section.period_months, &section.max_total_months) {
                (None, None) => Ok(Renewal::None),
                (Some(value), _) | (None, Some(value)) => Err(self.fail(
                    value.span(),
                    "rule",
                    "« none » ne prend ni période ni durée maximale",
                )),
            },
            "tacit" => {
                let period = section.period_months.as_ref().ok_or_else(|| {
                    self.fail(raw.span(), "period_months", "manquant pour « tacit »")
                })?;
                let period_months = self.months(period, "period_months", 1, MAX_MONTHS)?;
                let first = match duration {
                    Duration::Fixed { months } | Duration::AtMost { months, .. } => months,
                    Duration::EndOfCalendarYear => 1,
                };
                let max_total_months = section
                    .max_total_months
                    .as_ref()
                    .map(|m| self.months(m, "max_total_months", first, MAX_TOTAL_MONTHS))
                    .transpose()?;
                Ok(Renewal::Tacit {
                    period_months,
                    max_total_months,
                })
            }
            other => Err(self.fail(
                section.rule.span(),
                "rule",
                format!("« {other} » inconnu : « none » ou « tacit »"),
            )),
        }
    }

    pub(super) fn notice(&self, raw: &Spanned<RawNotice>) -> Result<Notice, OfferError> {
        let section = raw.get_ref();
        let by: Vec<Party> = self.words(&section.by, "by")?;
        if by.is_empty() {
            return Err(self.fail(section.by.span(), "by", "au moins une partie"));
        }
        Ok(Notice {
            months: self.months(&section.months, "months", 0, MAX_MONTHS)?,
            by,
            effect: self.word::<NoticeEffect>(&section.effect, "effect")?,
            article: self.text(&section.article, "article")?,
        })
    }

    pub(super) fn eligibility(
        &self,
        raw: &Spanned<RawEligibility>,
    ) -> Result<Eligibility, OfferError> {
        let section = raw.get_ref();
        let bound = |value: &Option<Spanned<i64>>, field: &str| {
            value
                .as_ref()
                .map(|v| {
                    u32::try_from(*v.get_ref())
                        .ok()
                        .filter(|n| (1..=MAX_POPULATION).contains(n))
                        .ok_or_else(|| {
                            self.fail(
                                v.span(),
                                field,
                                format!("{} : de 1 à 10 000 000", v.get_ref()),
                            )
                        })
                })
                .transpose()
        };
        let eligibility = Eligibility {
            commune_population_below: bound(
                &section.commune_population_below,
                "commune_population_below",
            )?,
            epci_population_below: bound(&section.epci_population_below, "epci_population_below")?,
        };
        if eligibility.is_open() {
            return Err(self.fail(
                raw.span(),
                "eligibility",
                "une section [eligibility] donne au moins une limite (sans limite, l'omettre)",
            ));
        }
        Ok(eligibility)
    }

    pub(super) fn steps(
        &self,
        raw: &Spanned<Vec<RawStep>>,
        deliverables: &[DeliverableKind],
    ) -> Result<Vec<Step>, OfferError> {
        if raw.get_ref().len() > MAX_ITEMS {
            return Err(self.fail(raw.span(), "steps", "plus de 20 étapes"));
        }
        let mut steps: Vec<Step> = Vec::new();
        for step in raw.get_ref() {
            let id = step.id.get_ref().trim();
            if !is_id(id) {
                return Err(self.fail(
                    step.id.span(),
                    "id",
                    "lettres minuscules, chiffres et « _ »",
                ));
            }
            if steps.iter().any(|known| known.id == id) {
                return Err(self.fail(step.id.span(), "id", format!("« {id} » déjà utilisé")));
            }
            let after = match &step.after {
                None => None,
                Some(after) if steps.iter().any(|s| s.id == after.get_ref().trim()) => {
                    Some(after.get_ref().trim().to_owned())
                }
                Some(after) => {
                    return Err(self.fail(
                        after.span(),
                        "after",
                        format!("« {} » n'est pas une étape précédente", after.get_ref()),
                    ));
                }
            };
            let from_months = self.months(&step.from_months, "from_months", 0, MAX_MONTHS)?;
            let to_months = self.months(&step.to_months, "to_months", from_months, MAX_MONTHS)?;
            let own: Vec<DeliverableKind> = self.words(&step.deliverables, "deliverables")?;
            if let Some(missing) = own.iter().find(|kind| !deliverables.contains(kind)) {
                return Err(self.fail(
                    step.deliverables.span(),
                    "deliverables",
                    format!("« {} » absent des livrables de l'offre", missing.word()),
                ));
            }
            steps.push(Step {
                id: id.to_owned(),
                title: self.text(&step.title, "title")?,
                after,
                from_months,
                to_months,
                deliverables: own,
            });
        }
        Ok(steps)
    }

    pub(super) fn processing(
        &self,
        raw: &Spanned<RawProcessing>,
    ) -> Result<Processing, OfferError> {
        let p = raw.get_ref();
        Ok(Processing {
            name: self.text(&p.name, "name")?,
            controller: self.text(&p.controller, "controller")?,
            processor: self.text(&p.processor, "processor")?,
            sub_processors: self.texts(&p.sub_processors, "sub_processors", 0)?,
            purposes: self.texts(&p.purposes, "purposes", 1)?,
            data: self.texts(&p.data, "data", 1)?,
            people: self.texts(&p.people, "people", 1)?,
            recipients: self.texts(&p.recipients, "recipients", 1)?,
            retention: self.text(&p.retention, "retention")?,
            article: self.text(&p.article, "article")?,
        })
    }
}

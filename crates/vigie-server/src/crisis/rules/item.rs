//! A new item of the kit and what identifies it: a laptop its serial
//! number, a phone its IMEI, a mailbox its address.

use super::{Kind, MAX_SHORT, text};

/// A new item as the form gives it, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewItem {
    pub kind: Kind,
    pub label: String,
    pub serial: String,
    pub imei: String,
    pub address: String,
}

/// Checks a new item: a laptop needs its serial number, a phone its IMEI
/// (15 digits, Luhn check digit: 3GPP TS 23.003 §6.2.1), a mailbox its
/// address. The error names the field as the form labels it.
pub fn new_item(
    kind: &str,
    label: &str,
    serial: &str,
    imei: &str,
    address: &str,
) -> Result<NewItem, String> {
    let kind = Kind::parse(kind).ok_or("« Type » : choisissez ordinateur, téléphone ou boîte.")?;
    let label = text(label, "Nom", MAX_SHORT)?;
    let optional = |value: &str, field: &str| -> Result<String, String> {
        if value.trim().is_empty() {
            Ok(String::new())
        } else {
            text(value, field, MAX_SHORT)
        }
    };
    let serial = optional(serial, "Numéro de série")?;
    let imei: String = imei.chars().filter(|c| !c.is_whitespace()).collect();
    let address = optional(address, "Adresse de la boîte")?;
    match kind {
        Kind::Laptop if serial.is_empty() => {
            return Err("« Numéro de série » : à remplir pour un ordinateur.".to_owned());
        }
        Kind::Phone if !imei_ok(&imei) => {
            return Err("« IMEI » : 15 chiffres (tapez *#06# sur le téléphone), le dernier étant la clé de contrôle.".to_owned());
        }
        Kind::Mailbox if !mail_ok(&address) => {
            return Err(
                "« Adresse de la boîte » : une adresse électronique (nom@domaine.fr).".to_owned(),
            );
        }
        _ => {}
    }
    if kind != Kind::Phone && !imei.is_empty() && !imei_ok(&imei) {
        return Err("« IMEI » : 15 chiffres, le dernier étant la clé de contrôle.".to_owned());
    }
    Ok(NewItem {
        kind,
        label,
        serial,
        imei,
        address,
    })
}

/// An IMEI: 15 digits whose last is the Luhn check digit.
pub fn imei_ok(imei: &str) -> bool {
    if imei.len() != 15 || !imei.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = imei
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let twice = d * 2;
                twice / 10 + twice % 10
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn mail_ok(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
}

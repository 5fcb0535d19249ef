//! Batch import: many accounts for a partner at once, each item on its own.

use super::*;

/// One item of a batch import: exactly one of `password` and `password_hash`.
#[derive(Debug, Clone)]
pub struct BatchItem {
    pub email: String,
    pub password: Option<Secret>,
    /// A PHC / modular-crypt string: argon2id, argon2i, bcrypt or scrypt.
    pub password_hash: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub redirect: Option<String>,
}

/// Checks an imported hash without doing any expensive work: its format,
/// then its cost against the server's ceiling.
fn parse_imported_hash(raw: &str, ceiling: &CostCeiling) -> Result<String, FieldError> {
    ceiling.check(raw).map_err(|why| {
        FieldError::new(
            "passwordHash",
            FieldCode::PasswordHashTooCostly,
            format!("passwordHash costs more than this server verifies: {why}"),
        )
    })?;
    if classify(raw).is_none() {
        return Err(FieldError::new(
            "passwordHash",
            FieldCode::InvalidPasswordHash,
            "passwordHash must be an argon2id, argon2i, bcrypt or scrypt hash string",
        ));
    }
    Ok(raw.to_owned())
}

/// A validated batch item, waiting for its password hash.
struct Prepared {
    email: Email,
    first_name: String,
    last_name: String,
    redirect: String,
    hash: Result<String, Secret>,
}

fn prepare(item: BatchItem, ceiling: &CostCeiling) -> Result<Prepared, DomainError> {
    let mut v = Validator::default();
    let email = v.check(Email::parse("primaryEmail", &item.email));
    let hash = match (item.password, item.password_hash) {
        (Some(pw), None) => v.check(check_policy("password", &pw, Some(item.email.trim()))).map(|()| Err(pw)),
        (None, Some(hash)) => v.check(parse_imported_hash(&hash, ceiling)).map(Ok),
        _ => {
            v.push(FieldError::new(
                "password",
                FieldCode::Required,
                "give exactly one of password and passwordHash",
            ));
            None
        }
    };
    let first_name = optional_name(&mut v, "firstName", item.first_name.as_deref());
    let last_name = optional_name(&mut v, "lastName", item.last_name.as_deref());
    let redirect = item.redirect.as_deref().map(|r| v.check(parse_redirect("redirect", r)));
    v.finish()?;
    let (Some(email), Some(hash)) = (email, hash) else {
        unreachable!("validated")
    };
    Ok(Prepared {
        email,
        first_name,
        last_name,
        redirect: redirect.flatten().unwrap_or_else(|| DEFAULT_REDIRECT.to_owned()),
        hash,
    })
}

impl Provisioning {
    /// Creates many accounts for a partner, each on its own: a bad item is
    /// reported and skipped, the others are created in one transaction.
    /// Passwords are hashed in the partner's turns on the hashing workers;
    /// imported hashes are checked against the cost ceiling, stored as they
    /// are and upgraded to argon2id at the first successful login.
    ///
    /// # Errors
    /// `Overloaded` when the batch's passwords do not fit in the hashing
    /// queue now, `Validation` when they never could.
    pub async fn partner_batch_create(
        &self,
        tenant: &Tenant,
        partner: &Partner,
        actor: &Actor,
        items: Vec<Result<BatchItem, DomainError>>,
    ) -> Result<Vec<Result<SignInLink, DomainError>>, DomainError> {
        let mut seen = std::collections::HashSet::new();
        let ceiling = self.hasher.ceiling();
        let mut prepared: Vec<Result<Prepared, DomainError>> = items.into_iter().map(|i| i.and_then(|i| prepare(i, &ceiling))).collect();
        for p in prepared.iter_mut() {
            if let Ok(item) = p
                && !seen.insert(item.email.normalized())
            {
                *p = Err(DomainError::EmailTaken);
            }
        }
        let to_hash: Vec<Secret> = prepared
            .iter()
            .filter_map(|p| p.as_ref().ok()?.hash.as_ref().err().cloned())
            .collect();
        let most = self.hasher.batch_capacity();
        if to_hash.len() > most {
            let message = format!("at most {most} items with a password fit in one batch on this server");
            return Err(DomainError::Validation(vec![FieldError::new(
                "accounts",
                FieldCode::InvalidLength,
                message,
            )]));
        }
        // All of the batch's hashes are admitted at once or none is (503
        // overloaded): nothing is created from a batch that was refused.
        let share = Share::partner(&tenant.env.id, &partner.id);
        let mut hashed = self.hasher.hash_many(&share, to_hash).await?.into_iter();
        let now = self.clock.now_ms();
        let mut entries = Vec::new();
        let mut outcomes: Vec<Result<SignInLink, DomainError>> = Vec::with_capacity(prepared.len());
        for p in prepared {
            let item = match p {
                Ok(item) => item,
                Err(e) => {
                    outcomes.push(Err(e));
                    continue;
                }
            };
            let password_hash = match item.hash {
                Ok(imported) => imported,
                Err(_) => match hashed.next() {
                    Some(Ok(h)) => h,
                    Some(Err(e)) => {
                        outcomes.push(Err(e));
                        continue;
                    }
                    None => {
                        outcomes.push(Err(DomainError::Internal("missing hash".into())));
                        continue;
                    }
                },
            };
            let account = Account {
                id: AccountId::generate(),
                env_id: tenant.env.id.clone(),
                email: item.email.as_str().to_owned(),
                name: PersonName {
                    first_name: item.first_name,
                    last_name: item.last_name,
                },
                password_hash,
                partner_id: Some(partner.id.clone()),
                active: true,
                created_at: now,
                updated_at: now,
            };
            let (token, link) = self.new_link(tenant, &account.id, item.redirect, now);
            let audit = AuditEvent::in_tenant(actor, tenant, "account.created", account.id.as_str())
                .with_detail(json!({ "email": account.email, "partner_id": partner.id, "batch": true }))
                .emit(&tenant.env.id, EventType::AccountCreated, Some(&partner.id), account.event_data());
            outcomes.push(Ok(link));
            entries.push((outcomes.len() - 1, account, token, audit));
        }
        let rows: Vec<_> = entries.iter().map(|(_, a, t, e)| (a.clone(), t.clone(), e.clone())).collect();
        let created = self.store.create_accounts_batch(&rows).await?;
        for ((index, ..), ok) in entries.iter().zip(created) {
            if !ok {
                outcomes[*index] = Err(DomainError::EmailTaken);
            }
        }
        Ok(outcomes)
    }
}

//! First run: while no user exists, a single-use setup link lets a person create the first
//! organisation and its owner from the browser.

use aims_domain::identity::{Email, NewPassword, OrgSlug, Role, parse_name};
use aims_domain::{ValidationErrors, clock};
use aims_store::model::{Actor, Organization, User};
use aims_store::onetime::{self, Purpose};
use aims_store::users;
use time::Duration;

use crate::secrets::{self, hash_password};
use crate::{App, AppError, AppResult};

const SETUP_LINK_LIFETIME: Duration = Duration::hours(24);

/// What the setup form submits.
pub struct SetupForm<'a> {
    pub org_slug: &'a str,
    pub org_name: &'a str,
    pub display_name: &'a str,
    pub email: &'a str,
    pub password: &'a str,
}

impl App {
    /// Issues a setup link secret when no user exists yet; `None` once anyone exists.
    pub async fn issue_setup_link(&self) -> AppResult<Option<String>> {
        if users::count(&self.db).await? > 0 {
            return Ok(None);
        }
        let secret = secrets::random_token("setup_")?;
        let now = clock::now();
        onetime::insert(
            &self.db,
            &secrets::token_hash(&secret),
            Purpose::Setup,
            None,
            &clock::format(now),
            &clock::format(now + SETUP_LINK_LIFETIME),
        )
        .await?;
        Ok(Some(secret))
    }

    pub async fn setup_link_valid(&self, secret: &str) -> AppResult<bool> {
        let valid = onetime::peek(&self.db, &secrets::token_hash(secret), Purpose::Setup, &clock::now_text()).await?.is_some();
        Ok(valid && users::count(&self.db).await? == 0)
    }

    /// Creates the first organisation and its owner, using the setup link up.
    pub async fn complete_setup(&self, secret: &str, form: &SetupForm<'_>) -> AppResult<(Organization, User)> {
        let mut errors = ValidationErrors::default();
        let mut take = |r: Result<(), ValidationErrors>| {
            if let Err(e) = r {
                errors.0.extend(e.0)
            }
        };
        take(OrgSlug::parse("org_slug", form.org_slug).map(drop));
        take(parse_name("org_name", form.org_name).map(drop));
        take(parse_name("display_name", form.display_name).map(drop));
        let email = Email::parse("email", form.email);
        take(email.as_ref().map(drop).map_err(Clone::clone));
        take(NewPassword::parse("password", form.password).map(drop));
        errors.into_result()?;
        let email = email?;
        let display_name = parse_name("display_name", form.display_name)?;
        let hash = hash_password(form.password.to_owned()).await?;
        let mut tx = self.db.begin_write().await?;
        let now = clock::now_text();
        if onetime::consume(&mut tx, &secrets::token_hash(secret), Purpose::Setup, &now).await?.is_none() {
            return Err(AppError::NotFound("setup link (it may have been used or expired)".into()));
        }
        let actor = Actor::System("setup");
        let org = self.create_org_in(&mut tx, form.org_slug, form.org_name, &actor).await?;
        self.create_member_in(&mut tx, &org.id, &email, Role::Owner, Some((display_name, hash)), &actor).await?;
        tx.commit().await?;
        let user = users::by_email(&self.db, email.as_str()).await?.ok_or_else(|| AppError::Internal("owner vanished".into()))?;
        Ok((org, user))
    }
}

//! Portal users through the core: applying makes a pending partner and its
//! first person, invitations work once and for 7 days, sessions end when
//! idle or when their person is removed, and every change is audited.

use std::time::Duration;

use onramp_domain::DomainError;
use onramp_domain::audit::{Actor, AuditFilter};
use onramp_domain::infra::secret::Secret;
use onramp_domain::partners::PartnerStatus;
use onramp_domain::portal::NewApplication;

use super::{PASSWORD, application, tenant};
use crate::helpers::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_makes_a_pending_partner_and_its_first_person_signed_in() {
    let server = TestServer::start().await;
    server.create_instance("acme", &["partners"]).await;
    let tenant = tenant(&server, "acme", "staging").await;
    let portal = server.core.portal();
    let (token, member) = portal.apply(&tenant, application("Acme Ltd", "ann@acme.example")).await.unwrap();
    assert_eq!(member.partner.name, "Acme Ltd");
    assert_eq!(member.partner.status, PartnerStatus::Pending);
    assert!(!member.approved());
    assert_eq!(member.user.email, "ann@acme.example");
    let again = portal.session(&tenant, &token).await.unwrap().expect("signed in");
    assert_eq!(again.user.id, member.user.id);
    let app = portal.application(&member.partner.id).await.unwrap().expect("kept");
    assert_eq!(
        (app.contact_name.as_str(), app.intended_use.as_str()),
        ("Ann Example", "Provision shop accounts")
    );
    // Nothing opens before approval.
    assert!(matches!(
        portal.keys(&member).await,
        Err(DomainError::PartnerNotApproved("pending"))
    ));
    assert!(matches!(portal.team(&member).await, Err(DomainError::PartnerNotApproved(_))));

    // The same email again is refused, and nothing is made.
    let before = server.core.partners().list(None).await.unwrap().len();
    let dup = portal.apply(&tenant, application("Other Ltd", "ANN@acme.example")).await;
    assert!(matches!(dup, Err(DomainError::EmailTaken)), "{dup:?}");
    assert_eq!(server.core.partners().list(None).await.unwrap().len(), before);
    // Every field is checked at once.
    let bad = NewApplication {
        company: " ".into(),
        contact_name: String::new(),
        email: "nope".into(),
        intended_use: String::new(),
        password: Secret::new("short".into()),
    };
    let Err(DomainError::Validation(errors)) = portal.apply(&tenant, bad).await else {
        panic!("refused")
    };
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["company", "contact_name", "email", "intended_use", "password"]);

    // The other environment has its own people: the same email applies there.
    let production = super::tenant(&server, "acme", "production").await;
    portal
        .apply(&production, application("Acme Ltd", "ann@acme.example"))
        .await
        .unwrap();
    assert!(
        portal.session(&production, &token).await.unwrap().is_none(),
        "a session is its environment's"
    );

    let audit = server
        .core
        .audit()
        .events(&AuditFilter {
            actor: Some(format!("portal_user:{}", member.user.id)),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let actions: Vec<_> = audit.iter().map(|e| e.action.as_str()).collect();
    for action in ["partner.applied", "portal_user.created", "portal_user.signed_in"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_work_once_for_seven_days_and_removal_ends_sessions() {
    let server = TestServer::start().await;
    server.create_instance("acme", &["partners"]).await;
    let tenant = tenant(&server, "acme", "staging").await;
    let portal = server.core.portal();
    let (_, ann) = portal.apply(&tenant, application("Acme Ltd", "ann@acme.example")).await.unwrap();
    let partner = ann.partner.id.clone();
    server
        .core
        .partners()
        .set_partner_status(&Actor::operator(), &partner, PartnerStatus::Active)
        .await
        .unwrap();
    let (first_token, _) = portal
        .sign_in(&tenant, "ann@acme.example", &Secret::new(PASSWORD.into()), super::source())
        .await
        .unwrap();
    let ann = portal.session(&tenant, &first_token).await.unwrap().unwrap();
    assert!(ann.approved());

    // The operator invites Bob; the link is a path on the environment's host.
    let invited = portal.invite(&Actor::operator(), &partner, "Bob@Acme.example").await.unwrap();
    let path = invited.url_path.expose().to_owned();
    let token = path.strip_prefix("/partners/invite/").expect("a portal path").to_owned();
    assert!(token.starts_with("onr_inv_"));
    assert_eq!(portal.invitation(&tenant, &token).await.unwrap().email, "bob@acme.example");
    let production = super::tenant(&server, "acme", "production").await;
    assert!(matches!(
        portal.invitation(&production, &token).await,
        Err(DomainError::InvalidGrant(_))
    ));
    // A weak password changes nothing; a good one works once.
    let weak = portal.accept(&tenant, &token, &Secret::new("bob@acme.example".into())).await;
    assert!(matches!(weak, Err(DomainError::Validation(_))), "{weak:?}");
    let bob = portal
        .accept(&tenant, &token, &Secret::new("Bobs-own-password-1".into()))
        .await
        .unwrap();
    let again = portal.accept(&tenant, &token, &Secret::new("Bobs-own-password-1".into())).await;
    assert!(matches!(again, Err(DomainError::InvalidGrant(_))), "{again:?}");
    let bob = portal.session(&tenant, &bob).await.unwrap().expect("Bob is signed in");
    assert_eq!(bob.partner.id, partner);
    assert_eq!(portal.team(&ann).await.unwrap().len(), 2);
    // An invitation to someone already in is refused.
    assert!(matches!(
        portal.invite_teammate(&ann, "bob@acme.example").await,
        Err(DomainError::EmailTaken)
    ));

    // Ann's invitation to Cy expires after 7 days.
    let cy = portal.invite_teammate(&ann, "cy@acme.example").await.unwrap();
    let cy_token = cy.url_path.expose().rsplit('/').next().unwrap().to_owned();
    server.clock.advance(Duration::from_secs(7 * 24 * 3600));
    let late = portal.accept(&tenant, &cy_token, &Secret::new("Cys-own-password-1".into())).await;
    assert!(matches!(late, Err(DomainError::TokenExpired)), "{late:?}");

    // Sessions end after 30 idle minutes (the clock moved 7 days).
    assert!(portal.session(&tenant, &first_token).await.unwrap().is_none());
    let (ann, _) = portal
        .sign_in(&tenant, "ann@acme.example", &Secret::new(PASSWORD.into()), super::source())
        .await
        .unwrap();
    let ann_token = ann.clone();
    let ann = portal.session(&tenant, &ann).await.unwrap().unwrap();
    let (bob_token, _) = portal
        .sign_in(
            &tenant,
            "bob@acme.example",
            &Secret::new("Bobs-own-password-1".into()),
            super::source(),
        )
        .await
        .unwrap();
    let bob = portal.session(&tenant, &bob_token).await.unwrap().unwrap();
    assert!(matches!(portal.remove(&ann, &ann.user.id).await, Err(DomainError::Forbidden(_))));
    portal.remove(&ann, &bob.user.id).await.unwrap();
    assert!(
        portal.session(&tenant, &bob_token).await.unwrap().is_none(),
        "removal ends Bob's session"
    );
    assert!(portal.session(&tenant, &ann_token).await.unwrap().is_some());
    assert_eq!(portal.team(&ann).await.unwrap().len(), 1);
}

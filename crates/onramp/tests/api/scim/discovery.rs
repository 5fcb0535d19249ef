//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` say what the
//! server does, and it does it.

use serde_json::json;

use crate::helpers::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_describes_what_is_served() {
    let server = TestServer::start().await;
    let scim = super::scim_client(&server).await;

    let config = scim.get("/scim/v2/ServiceProviderConfig").await;
    assert_eq!(config.expect(200).header("content-type"), Some("application/scim+json"));
    let c = &config.json;
    assert_eq!(
        (&c["patch"]["supported"], &c["bulk"]["supported"], &c["changePassword"]["supported"]),
        (&json!(true), &json!(false), &json!(false))
    );
    assert_eq!(
        (&c["filter"]["supported"], &c["filter"]["maxResults"], &c["etag"]["supported"]),
        (&json!(true), &json!(200), &json!(true))
    );
    assert_eq!(c["sort"]["supported"], false);
    assert_eq!(c["authenticationSchemes"][0]["type"], "oauthbearertoken");

    let types = scim.get("/scim/v2/ResourceTypes").await;
    assert_eq!(types.expect(200).json["totalResults"], 2);
    let user = scim.get("/scim/v2/ResourceTypes/User").await;
    assert_eq!(
        (&user.expect(200).json["endpoint"], &user.json["schema"]),
        (&json!("/Users"), &json!("urn:ietf:params:scim:schemas:core:2.0:User"))
    );
    let group = scim.get("/scim/v2/ResourceTypes/Group").await;
    assert_eq!(
        (&group.expect(200).json["endpoint"], &group.json["schema"]),
        (&json!("/Groups"), &json!("urn:ietf:params:scim:schemas:core:2.0:Group"))
    );
    assert_eq!(scim.get("/scim/v2/ResourceTypes/Role").await.status, 404);

    let schemas = scim.get("/scim/v2/Schemas").await;
    let ids: Vec<&str> = schemas.expect(200).json["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:core:2.0:Group"
        ]
    );
    let group = scim.get("/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group").await;
    let attributes = group.expect(200).json["attributes"].as_array().unwrap();
    let names: Vec<&str> = attributes.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["displayName", "externalId", "members"]);
    assert_eq!(attributes[0]["uniqueness"], "server");
    let member_parts: Vec<&str> = attributes[2]["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(member_parts, ["value", "display", "$ref", "type"]);
    let one = scim.get("/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").await;
    let names: Vec<&str> = one.expect(200).json["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"userName") && names.contains(&"active") && names.contains(&"externalId"),
        "{names:?}"
    );
    let password = one.json["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "password")
        .unwrap();
    assert_eq!(
        (&password["mutability"], &password["returned"]),
        (&json!("writeOnly"), &json!("never"))
    );
    assert_eq!(scim.get("/scim/v2/Schemas/urn:nope").await.status, 404);
    // Behind the token like every SCIM path.
    assert_eq!(
        server
            .staging("acme")
            .without_token()
            .get("/scim/v2/ServiceProviderConfig")
            .await
            .status,
        401
    );
}

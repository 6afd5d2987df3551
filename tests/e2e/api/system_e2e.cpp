// System, auth, keys and audit routes.
#include <gtest/gtest.h>

#include "api_groups.h"

namespace threatd::testing {

void ExerciseSystem(ApiSession& s) {
  auto root = s.Get("/", As::kAnonymous);
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.json()["service"], "threatd");
  EXPECT_EQ(s.Get("/health", As::kAnonymous).status, 200);
  auto detailed = s.Get("/api/v1/health/detailed", As::kAnonymous);
  EXPECT_EQ(detailed.status, 200) << detailed.body;
  EXPECT_EQ(detailed.json()["checks"]["database"]["dialect"], s.backend() == Backend::kSqlite ? "sqlite" : "postgresql");
  EXPECT_EQ(s.Get("/api/v1/openapi.json", As::kAnonymous).status, 200);
  auto docs = s.Get("/docs", As::kAnonymous);
  EXPECT_EQ(docs.status, 200);
  EXPECT_NE(docs.body.find("swagger-ui"), std::string::npos);
  EXPECT_EQ(s.Get("/docs/swagger-ui.css", As::kAnonymous).status, 200);
  EXPECT_EQ(s.Get("/docs/no-such-asset.js", As::kAnonymous).status, 404);
  auto metrics = s.Get("/metrics", As::kAdmin);
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("http_connections_active"), std::string::npos);

  auto me = s.Get("/api/v1/auth/me", As::kViewer);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.json()["role"], "viewer");
  EXPECT_EQ(me.json()["name"], "e2e-viewer");
  s.ExpectRoles("GET", "/api/v1/auth/me", As::kViewer);

  // Keys: admin only.
  s.ExpectRoles("GET", "/api/v1/keys", As::kAdmin);
  s.ExpectRoles("POST", "/api/v1/keys", As::kAdmin, R"({"name":"nope"})");
  auto created = s.Post("/api/v1/keys", {{"name", "e2e-temp"}, {"role", "viewer"}}, As::kAdmin);
  ASSERT_EQ(created.status, 201) << created.body;
  const int64_t id = created.json()["id"];
  auto empty_name = s.Post("/api/v1/keys", {{"name", ""}}, As::kAdmin);
  EXPECT_EQ(empty_name.status, 422) << "a validation error is 422 (kValidation): " << empty_name.body;
  EXPECT_EQ(s.Call("POST", "/api/v1/keys", As::kAdmin, "{not json").status, 400);
  auto keys = s.Get("/api/v1/keys", As::kAdmin);
  EXPECT_EQ(keys.status, 200);
  EXPECT_EQ(keys.json()["keys"].size(), 4u) << keys.body;  // bootstrap, viewer, operator, temp
  s.ExpectRoles("DELETE", "/api/v1/keys/" + std::to_string(id), As::kAdmin);
  EXPECT_EQ(s.Delete("/api/v1/keys/" + std::to_string(id), As::kAdmin).status, 200);
  EXPECT_EQ(s.Delete("/api/v1/keys/999999", As::kAdmin).status, 404);
  EXPECT_EQ(s.Delete("/api/v1/keys/abc", As::kAdmin).status, 422);

  // Audit: the key creation above is recorded.
  s.ExpectRoles("GET", "/api/v1/audit", As::kAdmin);
  auto audit = s.Get("/api/v1/audit?limit=100", As::kAdmin);
  ASSERT_EQ(audit.status, 200) << audit.body;
  bool found = false;
  const auto entries = audit.json()["entries"];
  for (const auto& e : entries) found |= e["target_id"] == std::to_string(id);
  EXPECT_TRUE(found) << audit.body.substr(0, 600);
  EXPECT_EQ(s.Get("/api/v1/audit?limit=0", As::kAdmin).status, 422);
}

}  // namespace threatd::testing

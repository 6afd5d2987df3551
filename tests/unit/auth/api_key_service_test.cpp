#include "auth/api_key_service.h"

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "fakes/fake_api_key_repository.h"

namespace threatd::auth {
namespace {

class ApiKeyServiceTest : public ::testing::Test {
 protected:
  testing::FakeApiKeyRepository repo_;
  FakeClock clock_;
  metrics::Registry registry_;
  ApiKeyService service_{repo_, clock_, registry_, std::chrono::seconds(5)};
};

TEST_F(ApiKeyServiceTest, CreatedKeyAuthenticatesWithItsRole) {
  auto created = service_.Create("ops", Role::kOperator, std::string("cli"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->plaintext.starts_with("tdk_"));
  // Only the salted hash is stored, never the secret.
  EXPECT_EQ(created->plaintext.find(created->record.key_hash), std::string::npos);
  EXPECT_EQ(created->record.key_hash.size(), 64u);
  auto p = service_.Authenticate(created->plaintext);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->role, Role::kOperator);
  EXPECT_EQ(p->name, "ops");
}

TEST_F(ApiKeyServiceTest, WrongSecretMalformedAndUnknownKeysAreUnauthenticated) {
  auto created = service_.Create("viewer", Role::kViewer, std::nullopt);
  ASSERT_TRUE(created.ok());
  std::string wrong = created->plaintext;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  for (const std::string& token : {wrong, std::string("tdk_short"), std::string(""), std::string("Bearer x"),
                                   std::string("tdk_AAAAAAAAAAAA_") + std::string(32, 'A')}) {
    auto p = service_.Authenticate(token);
    ASSERT_FALSE(p.ok()) << token;
    EXPECT_EQ(p.status().code(), ErrorCode::kUnauthenticated);
  }
}

TEST_F(ApiKeyServiceTest, RevokedKeyStopsWorkingAtOnceDespiteTheCache) {
  auto created = service_.Create("temp", Role::kAdmin, std::nullopt);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(service_.Authenticate(created->plaintext).ok());
  ASSERT_TRUE(service_.Revoke(created->record.id).ok());
  EXPECT_EQ(service_.Authenticate(created->plaintext).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(service_.Revoke(999).code(), ErrorCode::kNotFound);
}

TEST_F(ApiKeyServiceTest, CacheAvoidsLookupsUntilTtl) {
  auto created = service_.Create("hot", Role::kViewer, std::nullopt);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(service_.Authenticate(created->plaintext).ok());
  const int after_first = repo_.lookups;
  ASSERT_TRUE(service_.Authenticate(created->plaintext).ok());
  EXPECT_EQ(repo_.lookups, after_first);
  clock_.Advance(std::chrono::seconds(6));
  ASSERT_TRUE(service_.Authenticate(created->plaintext).ok());
  EXPECT_EQ(repo_.lookups, after_first + 1);
}

TEST_F(ApiKeyServiceTest, DatabaseDownIsUnavailableNotUnauthenticated) {
  auto created = service_.Create("k", Role::kViewer, std::nullopt);
  ASSERT_TRUE(created.ok());
  repo_.down = true;
  auto p = service_.Authenticate(created->plaintext);
  EXPECT_EQ(p.status().code(), ErrorCode::kUnavailable);
}

TEST_F(ApiKeyServiceTest, BootstrapCreatesOneAdminOnlyWhenNoKeys) {
  auto first = service_.BootstrapAdminIfNone();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->record.role, Role::kAdmin);
  auto second = service_.BootstrapAdminIfNone();
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->has_value());
}

TEST_F(ApiKeyServiceTest, RejectsBadNamesAndPublicRole) {
  EXPECT_EQ(service_.Create("", Role::kViewer, std::nullopt).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(service_.Create("x", Role::kPublic, std::nullopt).status().code(), ErrorCode::kValidation);
}

TEST(Sha256, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace threatd::auth

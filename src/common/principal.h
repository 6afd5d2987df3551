// Principal and Role: who is making a request, as established by an API key.
//
// Roles are ordered: viewer < operator < admin. A route declares the least
// role it needs; kPublic routes need no credentials at all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace threatd {

enum class Role { kPublic = 0, kViewer = 1, kOperator = 2, kAdmin = 3 };

std::string_view RoleName(Role role);  // "public", "viewer", "operator", "admin"
std::optional<Role> ParseRole(std::string_view name);  // viewer|operator|admin

struct Principal {
  int64_t key_id = 0;    // api_keys.id
  std::string name;      // the key's human name, for audit_log.actor
  Role role = Role::kViewer;
};

inline bool HasRole(const Principal& p, Role needed) { return static_cast<int>(p.role) >= static_cast<int>(needed); }

}  // namespace threatd

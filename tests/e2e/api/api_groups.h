// The route groups of the e2e API suite. Each Exercise* function is a short
// story against one running service: it calls every route of its group with
// the right and the wrong roles and asserts status codes and values (the
// contract check on every response is done by ApiSession::Call). Failures
// are gtest non-fatal/fatal failures of the calling test.
#pragma once

#include "api_session.h"

namespace threatd::testing {

void ExerciseSystem(ApiSession& s);       // /, /health, /docs, /metrics, auth/me, keys, audit, health/detailed
void ExercisePredictions(ApiSession& s);  // upload/csv, upload/batches, upload/batch/{id}, every /predictions route
void ExerciseConfig(ApiSession& s);       // whitelist CRUD, sources list/get/patch
void ExerciseModels(ApiSession& s);       // the model registry routes
void ExerciseStream(ApiSession& s);       // test stream routes, /ws/connections, /ws/realtime
void ExerciseHealing(ApiSession& s);      // actions, policy, healing/mode

}  // namespace threatd::testing

// Loads this server's OpenAPI document into Swagger UI; no external requests.
// The server replaces __OPENAPI_URL__ with the configured API prefix.
window.ui = SwaggerUIBundle({
  url: '__OPENAPI_URL__',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: true,
  validatorUrl: null,
});

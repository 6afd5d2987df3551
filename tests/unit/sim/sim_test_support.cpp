#include "sim_test_support.h"

#include <cstdlib>

namespace threatd::sim::testing {

std::shared_ptr<const TrafficProfile> TinyProfile() {
  auto p = std::make_shared<TrafficProfile>();
  p->features = {"dst_port", "flow_duration", "total_fwd_packets"};
  auto continuous = [](std::vector<double> v, double missing = 0) {
    Marginal m;
    m.kind = Marginal::Kind::kContinuous;
    m.values = std::move(v);
    m.missing = missing;
    return m;
  };
  auto discrete = [](std::vector<double> v, std::vector<double> cdf) {
    Marginal m;
    m.kind = Marginal::Kind::kDiscrete;
    m.integral = true;
    m.values = std::move(v);
    m.cdf = std::move(cdf);
    return m;
  };
  ClassProfile benign;
  benign.label = "BENIGN";
  benign.rows = 100;
  Component web;  // two components: web and DNS
  web.weight = 0.7;
  web.rows = 70;
  web.protocols = {{6, 1.0}};
  web.marginals = {discrete({80, 443}, {0.3, 1.0}), continuous({0, 10, 1000, 100000}, 0.25),
                   continuous({1, 2, 5, 50})};
  web.correlation = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  Component dns = web;
  dns.weight = 0.3;
  dns.rows = 30;
  dns.marginals[0] = discrete({53}, {1.0});
  dns.protocols = {{6, 0.1}, {17, 0.9}};
  benign.components = {web, dns};
  ClassProfile ddos;
  ddos.label = "DDoS";
  ddos.rows = 100;
  Component flood;
  flood.rows = 100;
  flood.protocols = {{6, 1.0}};
  flood.marginals = {discrete({80}, {1.0}), continuous({100, 200, 300}), continuous({1, 3, 5})};
  flood.correlation = {1, 0, 0, 0, 1, 0.95, 0, 0.95, 1};
  ddos.components = {flood};
  p->classes = {benign, ddos};
  return p;
}

std::string SourcePath(const std::string& relative) {
  const char* src = std::getenv("THREATD_SOURCE_DIR");
  return std::string(src ? src : THREATD_TEST_SOURCE_DIR) + "/" + relative;
}

}  // namespace threatd::sim::testing

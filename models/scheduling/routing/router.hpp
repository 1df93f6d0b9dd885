// Routers place each arriving request on one serving instance. They see plain data (the
// request and each instance's engine state at the current time), never SimGrid.
#pragma once

#include "sim/util/params.hpp"
#include "sim/util/registry.hpp"

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "models/scheduling/routing/router_view.hpp"
#include "models/scheduling/serving_engine.hpp"
#include "workloads/request.hpp"

namespace kvsim::scheduling::routing {

class Router {
 public:
  virtual ~Router() = default;
  // Index into instances of the chosen one. instances is never empty.
  virtual std::size_t route(const workload::Request& request, std::span<const ServingEngine* const> instances,
                            double now) = 0;
  // Cache-aware and randomised routers keep the view (it outlives the router's use); called
  // once before the first route().
  virtual void attach(const RouterView& view) { (void)view; }
};

struct RouterEntry {
  std::string name;  // registry name, equal to the variant's file name
  std::string help;
  std::vector<ParamSpec> params;  // numeric parameters, read from [routing.params]
  std::function<std::unique_ptr<Router>(const Params&)> make;
};

// Every registered router, in registry order.
const Registry<RouterEntry>& routers();
std::vector<std::string> router_names();
// The router of that name with its parameters resolved from overrides (defaults for the
// rest); an InputError naming the field for an unknown name or parameter.
std::unique_ptr<Router> make_router(const std::string& name, const ParamValues& overrides = {});

}  // namespace kvsim::scheduling::routing

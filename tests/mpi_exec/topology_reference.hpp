#pragma once
// The tree as Topology::build made it before it became compact (O(nodes) instead of a place
// per rank): every place stored, computed level by level. The tests check the compact one
// against it, rank by rank.

#include <algorithm>
#include <map>
#include <vector>

#include "parsl/mpi_exec/topology.hpp"

namespace topology_reference {
using parsl::mpi::RankPlace;
using parsl::mpi::Role;

struct Reference {
  std::vector<RankPlace> places_;
  int workers = 0;
  int depth = 0;
};

inline Reference reference_build(const std::vector<int>& node_of_rank, int fanout, int prefetch) {
  Reference t;
  const int n = static_cast<int>(node_of_rank.size());
  t.places_.resize(static_cast<std::size_t>(n));
  t.places_[0].role = Role::root;

  // Nodes in order of their lowest rank; node index = that order.
  std::map<int, std::vector<int>> by_node;
  std::vector<int> node_order;
  for (int r = 0; r < n; ++r) {
    auto [it, inserted] = by_node.try_emplace(node_of_rank[static_cast<std::size_t>(r)]);
    if (inserted) node_order.push_back(node_of_rank[static_cast<std::size_t>(r)]);
    it->second.push_back(r);
  }
  std::vector<int> submasters, lone, root_workers;
  for (std::size_t ni = 0; ni < node_order.size(); ++ni) {
    std::vector<int> ranks;
    for (int r : by_node[node_order[ni]])
      if (r != 0) ranks.push_back(r);
    for (int r : by_node[node_order[ni]]) t.places_[static_cast<std::size_t>(r)].node = static_cast<int>(ni);
    if (ranks.empty()) continue;
    if (ni == 0) {
      // Rank 0's own node: the root serves its workers itself (a sub-master there would
      // cost a rank and a hop for nothing).
      for (std::size_t i = 0; i < ranks.size(); ++i) {
        auto& w = t.places_[static_cast<std::size_t>(ranks[i])];
        w.role = Role::worker;
        w.local_worker = static_cast<int>(i);
        w.node_workers = static_cast<int>(ranks.size());
        root_workers.push_back(ranks[i]);
      }
      continue;
    }
    if (ranks.size() == 1) {
      lone.push_back(ranks[0]);
      auto& p = t.places_[static_cast<std::size_t>(ranks[0])];
      p.role = Role::worker;
      p.local_worker = 0;
      p.node_workers = 1;
      continue;
    }
    const int head = ranks[0];
    t.places_[static_cast<std::size_t>(head)].role = Role::submaster;
    submasters.push_back(head);
    for (std::size_t i = 1; i < ranks.size(); ++i) {
      auto& w = t.places_[static_cast<std::size_t>(ranks[i])];
      w.role = Role::worker;
      w.parent = head;
      w.local_worker = static_cast<int>(i - 1);
      w.node_workers = static_cast<int>(ranks.size() - 1);
      t.places_[static_cast<std::size_t>(head)].children.push_back(ranks[i]);
    }
  }
  // Group heads level by level until at most `fanout` remain for the root.
  std::vector<int> heads = submasters;
  heads.insert(heads.end(), lone.begin(), lone.end());
  while (static_cast<int>(heads.size()) > fanout) {
    std::vector<int> leaders;
    for (std::size_t i = 0; i < heads.size(); i += static_cast<std::size_t>(fanout)) {
      const std::size_t end = std::min(heads.size(), i + static_cast<std::size_t>(fanout));
      if (end - i == 1) {
        leaders.push_back(heads[i]);
        continue;
      }
      // Prefer a sub-master as the group's leader; promote a lone worker otherwise.
      std::size_t lead = i;
      for (std::size_t j = i; j < end; ++j)
        if (t.places_[static_cast<std::size_t>(heads[j])].role == Role::submaster) {
          lead = j;
          break;
        }
      const int leader = heads[lead];
      auto& lp = t.places_[static_cast<std::size_t>(leader)];
      lp.role = Role::submaster;
      for (std::size_t j = i; j < end; ++j) {
        if (j == lead) continue;
        lp.children.push_back(heads[j]);
        t.places_[static_cast<std::size_t>(heads[j])].parent = leader;
      }
      leaders.push_back(leader);
    }
    heads = leaders;
  }
  heads.insert(heads.end(), root_workers.begin(), root_workers.end());
  for (int h : heads) {
    t.places_[0].children.push_back(h);
    t.places_[static_cast<std::size_t>(h)].parent = 0;
  }
  // Depths top-down, capacities bottom-up.
  std::vector<int> order{0};
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& p = t.places_[static_cast<std::size_t>(order[i])];
    for (int c : p.children) {
      t.places_[static_cast<std::size_t>(c)].depth = p.depth + 1;
      order.push_back(c);
    }
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    auto& p = t.places_[static_cast<std::size_t>(*it)];
    if (p.role == Role::worker) {
      p.capacity = 1 + prefetch;
      ++t.workers;
    } else {
      p.capacity = 0;
      for (int c : p.children) p.capacity += t.places_[static_cast<std::size_t>(c)].capacity;
    }
    t.depth = std::max(t.depth, p.depth);
  }
  return t;
}

}  // namespace topology_reference

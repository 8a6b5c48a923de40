// darkroom people: the persons found among the library's faces. Listing first places the faces not yet in a person
// (incremental clustering); name, merge, move and reject record the user's decisions, which clustering never
// undoes; recluster groups every face again from scratch, keeping ids, names and those decisions.
#include "search/people.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "cli/library.h"

namespace dr::cli {
namespace {

int64_t parse_id(const std::string& what, const std::string& arg) {
  bool numeric = !arg.empty() && arg.size() < 18 && arg.find_first_not_of("0123456789") == std::string::npos;
  if (!numeric) throw UserError(what + " \"" + arg + "\" is not an id; `darkroom people` lists the ids");
  return std::stoll(arg);
}

catalog::PersonRow known_person(catalog::Store& store, const std::string& arg) {
  auto id = parse_id("the person", arg);
  auto p = store.person(id);
  if (!p) throw UserError("there is no person " + arg + " in the library; `darkroom people` lists them");
  return *p;
}

catalog::FaceRow known_face(catalog::Store& store, const std::string& arg) {
  auto id = parse_id("the face", arg);
  auto f = store.face(id);
  if (!f) throw UserError("there is no face " + arg + " in the library; `darkroom people --json` lists the faces");
  return *f;
}

// Places faces in persons: the new ones only (incremental), or every one the user did not place (full).
void cluster(catalog::Store& store, bool full) {
  auto rows = store.all_faces();
  if (rows.empty()) return;
  // One embedding model at a time: the faces of the most common embedding size (others wait for re-analysis).
  std::map<size_t, size_t> dims;
  for (const auto& r : rows) ++dims[r.embedding.size()];
  size_t dim = std::max_element(dims.begin(), dims.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  search::ClusterInput in;
  search::SeedQuality quality;
  bool unassigned = false;
  for (auto& r : rows) {
    if (r.embedding.size() != dim) continue;
    double n = 0;
    for (float v : r.embedding) n += double(v) * v;
    if (n <= 0) continue;
    search::FaceItem f;
    f.id = r.id;
    f.embedding = std::move(r.embedding);
    for (auto& v : f.embedding) v = float(v / std::sqrt(n));
    f.can_seed = r.size && r.blur && quality.ok(*r.size, *r.blur);
    f.person = r.person_id.value_or(0);
    f.pinned = r.pinned;
    unassigned = unassigned || f.person == 0;
    in.faces.push_back(std::move(f));
  }
  if (!full && !unassigned) return;
  for (const auto& r : store.rejections()) in.rejected.insert(r);
  in.next_person_id = store.max_person_id() + 1;
  search::PeopleClusterer clusterer;
  auto result = full ? clusterer.recluster(in) : clusterer.update(in);
  std::vector<catalog::FaceAssignment> changes;
  for (const auto& f : in.faces) {
    if (f.pinned) continue;
    auto it = result.person_of.find(f.id);
    int64_t to = it == result.person_of.end() ? 0 : it->second;
    if (to != f.person || full) changes.push_back({f.id, to});
  }
  if (changes.empty() && result.new_persons.empty()) return;
  store.write_assignments(changes, result.new_persons);
}

void list(catalog::Store& store, const Globals& g) {
  if (!store.read_only()) cluster(store, false);
  auto people = store.persons();
  std::map<int64_t, std::vector<int64_t>> faces_of;
  std::vector<std::pair<int64_t, int64_t>> unassigned;  // (face id, photo id): faces in no person
  for (const auto& f : store.all_faces()) {
    if (f.person_id)
      faces_of[*f.person_id].push_back(f.id);
    else
      unassigned.emplace_back(f.id, f.photo_id);
  }
  auto photo_path = [&](int64_t photo_id) {
    if (!photo_id) return std::string();
    auto p = store.photo(photo_id);
    return p ? p->path() : std::string();
  };
  if (g.json) {
    auto arr = nlohmann::json::array();
    for (const auto& p : people)
      arr.push_back({{"id", p.id},
                     {"name", p.name},
                     {"faces", p.faces},
                     {"photo", photo_path(p.photo_id)},
                     {"face_ids", faces_of[p.id]}});
    auto loose = nlohmann::json::array();
    for (auto [face, photo] : unassigned) loose.push_back({{"face", face}, {"photo", photo_path(photo)}});
    print_json_line({{"people", arr}, {"unassigned", loose}});
    return;
  }
  if (people.empty() && unassigned.empty()) {
    std::printf(
        "no people yet: faces are found by the faces task (`darkroom add --tasks faces`, then `darkroom work`)\n");
    return;
  }
  for (const auto& p : people) {
    std::string ids;
    for (auto id : faces_of[p.id]) ids += (ids.empty() ? "" : ",") + std::to_string(id);
    std::printf("%lld  %s  %lld face%s  %s  (faces %s)\n", (long long)p.id,
                p.name.empty() ? "(unnamed)" : p.name.c_str(), (long long)p.faces, p.faces == 1 ? "" : "s",
                photo_path(p.photo_id).c_str(), ids.c_str());
  }
  if (!unassigned.empty()) {
    // A person forms from two or more similar faces of good quality; the rest wait here for a match or for the user.
    std::printf("%s%zu face%s in no person (`darkroom people move FACE --to PERSON` places one):\n",
                people.empty() ? "no people yet; " : "", unassigned.size(), unassigned.size() == 1 ? "" : "s");
    for (auto [face, photo] : unassigned) std::printf("  face %lld  %s\n", (long long)face, photo_path(photo).c_str());
  }
}

void done(const Globals& g, const nlohmann::json& j, const std::string& text) {
  if (g.json)
    print_json_line(j);
  else
    std::printf("%s\n", text.c_str());
}

}  // namespace

void register_people(CLI::App& app, Globals& g) {
  struct Args {
    std::string a, b, name, to, from;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("people", "the persons among the library's faces: list, name, merge, move, reject");
  cmd->require_subcommand(0, 1);

  auto* name = cmd->add_subcommand("name", "give a person a name (search finds their photos by it)");
  name->add_option("id", args->a, "the person's id")->required();
  name->add_option("name", args->name, "the name")->required();
  name->callback([&g, args] {
    auto lib = open_library(g);
    auto store = open_catalog(lib, true);
    auto p = known_person(*store, args->a);
    std::string n = args->name;
    if (n.find_first_not_of(" \t") == std::string::npos) throw UserError("the name is empty; give the person a name");
    store->name_person(p.id, n);
    done(g, {{"id", p.id}, {"name", n}}, "person " + std::to_string(p.id) + " is now \"" + n + "\"");
  });

  auto* merge = cmd->add_subcommand("merge", "the second person's faces join the first (they are the same person)");
  merge->add_option("into", args->a, "the person that stays")->required();
  merge->add_option("from", args->b, "the person merged into it")->required();
  merge->callback([&g, args] {
    auto lib = open_library(g);
    auto store = open_catalog(lib, true);
    auto into = known_person(*store, args->a), from = known_person(*store, args->b);
    if (into.id == from.id) throw UserError("cannot merge person " + args->a + " with itself; give two persons");
    store->merge_persons(into.id, from.id);
    auto p = store->person(into.id);
    done(g, {{"id", into.id}, {"merged", from.id}, {"faces", p ? p->faces : 0}},
         "person " + std::to_string(from.id) + " merged into " + std::to_string(into.id));
  });

  auto* move = cmd->add_subcommand("move", "put a face in a person (clustering never moves it again)");
  move->add_option("face", args->a, "the face's id")->required();
  move->add_option("--to", args->to, "the person's id")->required();
  move->callback([&g, args] {
    auto lib = open_library(g);
    auto store = open_catalog(lib, true);
    auto f = known_face(*store, args->a);
    auto p = known_person(*store, args->to);
    store->move_face(f.id, p.id);
    done(g, {{"face", f.id}, {"person", p.id}},
         "face " + std::to_string(f.id) + " is now in person " + std::to_string(p.id));
  });

  auto* reject = cmd->add_subcommand("reject", "\"not this person\": take a face out of a person for good");
  reject->add_option("face", args->a, "the face's id")->required();
  reject->add_option("--from", args->from, "the person's id")->required();
  reject->callback([&g, args] {
    auto lib = open_library(g);
    auto store = open_catalog(lib, true);
    auto f = known_face(*store, args->a);
    auto p = known_person(*store, args->from);
    store->reject_face(f.id, p.id);
    done(g, {{"face", f.id}, {"rejected_from", p.id}},
         "face " + std::to_string(f.id) + " will not be put in person " + std::to_string(p.id) + " again");
  });

  auto* recluster = cmd->add_subcommand("recluster", "group every face again (keeps ids, names and your decisions)");
  recluster->callback([&g] {
    auto lib = open_library(g);
    auto store = open_catalog(lib, true);
    cluster(*store, true);
    list(*store, g);
  });

  cmd->callback([&g, cmd] {
    if (!cmd->get_subcommands().empty()) return;
    auto lib = open_library(g);
    auto store = open_catalog(lib, false);
    list(*store, g);
  });
}

}  // namespace dr::cli

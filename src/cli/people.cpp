// darkroom people: the persons found among the library's faces (`work` places new faces in persons as they
// arrive); name, merge, move and reject record the user's decisions, which clustering never undoes; recluster
// groups every face again from scratch, keeping ids, names and those decisions.
#include "app/people.h"

#include "cli/library.h"

namespace dr::cli {
namespace {

void print_list(const app::PeopleList& l, const Globals& g) {
  if (g.json) {
    print_json_line(l.to_json());
    return;
  }
  if (l.people.empty() && l.unassigned.empty()) {
    std::printf(
        "no people yet: faces are found by the faces task (`darkroom add --tasks faces`, then `darkroom work`)\n");
    return;
  }
  for (const auto& p : l.people) {
    std::string ids;
    for (auto id : p.face_ids) ids += (ids.empty() ? "" : ",") + std::to_string(id);
    std::printf("%lld  %s  %lld face%s  %s  (faces %s)\n", (long long)p.row.id,
                p.row.name.empty() ? "(unnamed)" : p.row.name.c_str(), (long long)p.row.faces,
                p.row.faces == 1 ? "" : "s", p.photo.c_str(), ids.c_str());
  }
  if (!l.unassigned.empty()) {
    // A person forms from two or more similar faces of good quality; the rest wait here for a match or for the user.
    std::printf("%s%zu face%s in no person (`darkroom people move FACE --to PERSON` places one):\n",
                l.people.empty() ? "no people yet; " : "", l.unassigned.size(), l.unassigned.size() == 1 ? "" : "s");
    for (const auto& f : l.unassigned) std::printf("  face %lld  %s\n", (long long)f.face, f.photo.c_str());
  }
}

void done(const Globals& g, const nlohmann::json& j, const std::string& text) {
  if (g.json)
    print_json_line(j);
  else
    std::printf("%s\n", text.c_str());
}

int64_t person_id(const std::string& arg) { return app::parse_id("the person", arg); }
int64_t face_id(const std::string& arg) { return app::parse_id("the face", arg); }

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
    auto s = open_session(g, true);
    auto j = app::name_person(s->store(), person_id(args->a), args->name);
    done(g, j, "person " + args->a + " is now \"" + args->name + "\"");
  });

  auto* merge = cmd->add_subcommand("merge", "the second person's faces join the first (they are the same person)");
  merge->add_option("into", args->a, "the person that stays")->required();
  merge->add_option("from", args->b, "the person merged into it")->required();
  merge->callback([&g, args] {
    auto s = open_session(g, true);
    auto j = app::merge_people(s->store(), person_id(args->a), person_id(args->b));
    done(g, j, "person " + args->b + " merged into " + args->a);
  });

  auto* move = cmd->add_subcommand("move", "put a face in a person (clustering never moves it again)");
  move->add_option("face", args->a, "the face's id")->required();
  move->add_option("--to", args->to, "the person's id")->required();
  move->callback([&g, args] {
    auto s = open_session(g, true);
    auto j = app::move_face(s->store(), face_id(args->a), person_id(args->to));
    done(g, j, "face " + args->a + " is now in person " + args->to);
  });

  auto* reject = cmd->add_subcommand("reject", "\"not this person\": take a face out of a person for good");
  reject->add_option("face", args->a, "the face's id")->required();
  reject->add_option("--from", args->from, "the person's id")->required();
  reject->callback([&g, args] {
    auto s = open_session(g, true);
    auto j = app::reject_face(s->store(), face_id(args->a), person_id(args->from));
    done(g, j, "face " + args->a + " will not be put in person " + args->from + " again");
  });

  auto* recluster = cmd->add_subcommand("recluster", "group every face again (keeps ids, names and your decisions)");
  recluster->callback([&g] {
    auto s = open_session(g, true);
    app::cluster_faces(s->store(), true);
    print_list(app::list_people(s->store()), g);
  });

  cmd->callback([&g, cmd] {
    if (!cmd->get_subcommands().empty()) return;
    auto s = open_session(g, false);
    print_list(app::list_people(s->store()), g);
  });
}

}  // namespace dr::cli

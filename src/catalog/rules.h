// The catalog's rules that are not storage: every backend applies these the same way, so they are written once.
//   - a face found again at the same place (its box rounded to whole pixels) after a photo is analysed again keeps
//     its person and whether the user put it there;
//   - a person's name matches a query when every word of the query is a word of the name (case-insensitive; a word
//     ending in * as a prefix).
#pragma once
#include <string>
#include <vector>

#include "catalog/derive.h"

namespace dr::catalog {

// `old_faces`: the photo's faces before (with their persons); `fresh`: the rows about to replace them, which get the
// person and pinned flag of the old face with the same rounded box, unless they already have a person.
void carry_people(const std::vector<FaceRow>& old_faces, std::vector<FaceRow>& fresh);

bool name_matches(const std::string& query, const std::string& name);
// Whether a query has any word to match (a query of punctuation matches nothing).
bool has_name_words(const std::string& query);

}  // namespace dr::catalog

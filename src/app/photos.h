// One photo (what `show` prints and GET /api/photos/ID sends) and the paged photo list (GET /api/photos).
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/session.h"

namespace dr::app {

// Everything the library knows about one photo, results under `analyze`'s keys; embedding vectors only when asked
// (they are long). Error::NotFound for an unknown id.
nlohmann::json photo_json(catalog::Store& store, int64_t id, bool embeddings);

// "Canon EOS 5D" from make and model, without the make twice ("Canon" + "Canon EOS 5D"); empty when unknown.
std::string camera_name(const std::string& make, const std::string& model);

// The short form of a photo in lists and search results: id, path, content_hash (thumbnails are named by it),
// date, taken (whether the date is the EXIF one), width, height, format.
nlohmann::json summary_json(const catalog::PhotoSummary& p);
// The same from a photo record; nullopt when it has no current path.
std::optional<catalog::PhotoSummary> summary_of(const catalog::Photo& p);

struct PhotoPage {
  std::vector<catalog::PhotoSummary> photos;
  std::string next;                // the cursor of the next page; empty at the end
  nlohmann::json to_json() const;  // {"photos": [...], "next": "..." | null}
};

// A cursor is opaque to clients; Error::BadInput when it is not one this darkroom made.
std::string encode_cursor(const std::string& date, int64_t id);
std::pair<std::string, int64_t> decode_cursor(const std::string& cursor);

// The photo list, newest first; q.limit is capped at 1000.
PhotoPage list_photos(catalog::Store& store, catalog::PhotoQuery q);

}  // namespace dr::app

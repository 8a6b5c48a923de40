// The "clip" task: one unit-length image embedding per photo from the installed CLIP model
// ({"dim": D} and, with RunOptions.embeddings, "embedding"). Settings: {"clip": {"model": "<manifest id>"}}.
// A CLIP model is a manifest entry of task "clip", role "encoder", whose files are named "visual" and "textual"
// (and optionally "config", "preprocess" and "tokenizer"); the tokenizer is the model's own tokenizer.json when the
// entry names one or its folder has textual/tokenizer.json, else the entry of task "clip-tokenizer".
#pragma once
#include <memory>
#include <string>

#include "analyzers/clip/clip_model.h"
#include "analyzers/task.h"

namespace dr::analyzers {

std::unique_ptr<Task> make_clip_task(TaskContext& ctx);

namespace clip {

// The tokenizer from the store (verified); loaded once per process and shared.
std::shared_ptr<const Tokenizer> load_tokenizer(const runtime::ModelStore& store);
// The tokenizer a model's files call for: its tokenizer.json when it has one (loaded once per path), else the
// store's. Throws runtime::ModelError when the file is unreadable or not a CLIP BPE tokenizer.
std::shared_ptr<const Tokenizer> tokenizer_for(const ModelFiles& files, const runtime::ModelStore& store);
// The CLIP model the settings choose (`chosen` id, else the default encoder), verified and opened. Throws
// runtime::ModelError when none is installed, saying how to install one.
std::shared_ptr<Model> load_model(runtime::Runtime& rt, const runtime::ModelStore& store,
                                  const std::string& chosen = {});

}  // namespace clip
}  // namespace dr::analyzers

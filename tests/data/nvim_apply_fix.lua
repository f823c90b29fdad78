-- A real editor session: Neovim's own LSP client starts `pasvlint lsp`, opens
-- FILE, waits for a RULE diagnostic, asks for its code actions, applies the one
-- whose title contains TITLE through Neovim's workspace-edit code, and writes
-- every buffer it changed. What it saw goes to OUT, one line each; the test
-- reads the files on disk, not this log.
local env = vim.env
local out = assert(io.open(env.OUT, "w"))
local function log(line)
  out:write(line, "\n")
  out:flush()
end
local function fail(why)
  log("FAIL " .. why)
  out:close()
  vim.cmd("cquit 1")
end

vim.cmd("edit " .. vim.fn.fnameescape(env.FILE))
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({ name = "pasvlint", cmd = { env.PASVLINT, "lsp" }, root_dir = env.ROOT })
if not id then
  return fail("the client did not start")
end
vim.lsp.buf_attach_client(buf, id)

local function wanted()
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == env.RULE then
      return d
    end
  end
end
if not vim.wait(120000, function() return wanted() ~= nil end, 50) then
  return fail("no " .. env.RULE .. " diagnostic")
end
local d = wanted()
log("diagnostic " .. d.message)

local client = vim.lsp.get_client_by_id(id)
local params = {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  range = {
    start = { line = d.lnum, character = d.col },
    ["end"] = { line = d.end_lnum, character = d.end_col },
  },
  context = { diagnostics = {}, only = { "quickfix" } },
}
local reply = client.request_sync("textDocument/codeAction", params, 60000, buf)
if not reply or reply.err then
  return fail("codeAction failed")
end
local chosen
for _, action in ipairs(reply.result or {}) do
  log("action " .. action.title)
  if not chosen and action.edit and action.title:find(env.TITLE, 1, true) then
    chosen = action
  end
end
if not chosen then
  return fail("no action titled " .. env.TITLE)
end
vim.lsp.util.apply_workspace_edit(chosen.edit, client.offset_encoding)
vim.cmd("silent wall")
log("applied " .. chosen.title)
out:close()
client.stop(true)
vim.cmd("qall!")

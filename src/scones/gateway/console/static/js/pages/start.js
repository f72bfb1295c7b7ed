// Starting an execution: a JSON input editor checked as you type; nothing is sent while it is invalid.
import {post} from "../api.js";
import {h, replace, message, route} from "../dom.js";

const MAX_INPUT_BYTES = 256 * 1024;
const NAME_RULE = /^[^\s<>{}\[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

/** Where a JSON.parse error is, as "line L, column C" (when the browser says the position). */
function where(text, error) {
  const m = /position (\d+)/.exec(error.message);
  if (!m) return "";
  const upto = text.slice(0, Number(m[1]));
  const line = upto.split("\n").length;
  const column = upto.length - upto.lastIndexOf("\n");
  return ` (line ${line}, column ${column})`;
}

export function checkInput(text) {
  if (new TextEncoder().encode(text).length > MAX_INPUT_BYTES) return `The input is larger than 256 KiB.`;
  try {
    JSON.parse(text);
    return null;
  } catch (err) {
    return `Not valid JSON${where(text, err)}: ${err.message}`;
  }
}

/**
 * A start form. `machines`: names to choose from; `chosen`: the one selected; `initial`: the input text.
 */
export function startForm({machines, chosen, initial, write}) {
  const select = h("select", {id: "start-machine", name: "stateMachine"},
    machines.map((m) => h("option", {value: m, selected: m === chosen ? true : null}, m)));
  const name = h("input", {id: "start-name", name: "name", type: "text", autocomplete: "off",
                           placeholder: "(optional: a name is made up)", maxlength: "80"});
  const input = h("textarea", {id: "start-input", name: "input", rows: "8", cols: "60", spellcheck: "false",
                               "aria-describedby": "start-check"});
  input.value = initial || "{}";
  const check = h("p", {id: "start-check", class: "check", "aria-live": "polite"});
  const button = h("button", {type: "submit", class: "primary"}, "Start execution");
  const result = h("div", {"aria-live": "polite"});

  function validate() {
    const problem = checkInput(input.value) ||
      (name.value && !NAME_RULE.test(name.value) ?
        "The name may have 1-80 characters, without spaces, brackets, wildcards or punctuation such as : / ; , $ & #" :
        null);
    check.textContent = problem || "Valid JSON.";
    check.className = problem ? "check bad" : "check good";
    input.setAttribute("aria-invalid", problem ? "true" : "false");
    button.disabled = Boolean(problem) || !write;
    return !problem;
  }
  input.addEventListener("input", validate);
  name.addEventListener("input", validate);

  const form = h("form", {class: "start-form", "aria-label": "Start an execution"},
    h("div", {class: "row"}, h("label", {for: "start-machine"}, "State machine"), select),
    h("div", {class: "row"}, h("label", {for: "start-name"}, "Execution name"), name),
    h("label", {for: "start-input"}, "Input (JSON)"), input, check,
    write ? null : h("p", {class: "note readonly"},
      "Read-only console: start ", h("code", {}, "scones up --console-write"), " to start executions here."),
    button, result);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!validate()) return;
    button.disabled = true;
    try {
      const body = {input: input.value};
      if (name.value) body.name = name.value;
      const started = await post(`/state-machines/${encodeURIComponent(select.value)}/executions`, body);
      location.hash = route("executions", started.name);
    } catch (err) {
      replace(result, message("error", err.message));
      validate();
    }
  });
  validate();
  return form;
}

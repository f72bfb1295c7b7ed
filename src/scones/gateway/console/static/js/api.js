// The console's JSON API: every answer is JSON; an error answer carries {error, message}.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function answer(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, body && body.error, (body && body.message) || `HTTP ${response.status}`);
  }
  return body;
}

export async function get(path, params = {}) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") query.set(k, v);
  const qs = query.toString();
  return answer(await fetch(`/_console/api${path}${qs ? "?" + qs : ""}`, {headers: {Accept: "application/json"}}));
}

export async function post(path, body) {
  return answer(await fetch(`/_console/api${path}`, {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-Scones-Console": "1", Accept: "application/json"},
    body: JSON.stringify(body || {}),
  }));
}

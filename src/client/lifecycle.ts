/**
 * The `on` option's lifecycle hooks, called with their info objects. Each is a plain call
 * when set and nothing when not; a throw is reported as a listener's exception would be, so
 * the source's own steps go on.
 */
import { EventSourceError, type EventSourceErrorInit } from "./errors.js";
import { type EventSourceHooks, hooksOption } from "./options.js";
import { reportException } from "./report.js";
import type { TransportResponse } from "./transport/types.js";

export class Lifecycle {
  readonly #on: EventSourceHooks;

  constructor(on: EventSourceHooks | undefined) {
    this.#on = hooksOption(on);
  }

  opened(url: string, response: TransportResponse, connections: number): void {
    const hook = this.#on.open;
    if (hook !== undefined) call(() => hook({ url, status: response.status, headers: response.headers(), connections }));
  }

  reconnecting(attempt: number, delay: number, failure: EventSourceErrorInit, retryAfter: number | undefined): void {
    const hook = this.#on.reconnect;
    if (hook === undefined) return;
    const error = new EventSourceError(failure);
    call(() => hook({ attempt, delay, reason: failure.code, error, retryAfter }));
  }

  gaveUp(attempts: number, error: EventSourceError): void {
    const hook = this.#on.giveUp;
    if (hook !== undefined) call(() => hook({ attempts, error }));
  }
}

function call(hook: () => void): void {
  try {
    hook();
  } catch (error) {
    reportException(error);
  }
}

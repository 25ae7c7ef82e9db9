// What Composio's answer about an initiated account means for our row, decided without
// I/O. The service initiated the account for the tenant's Composio user, so Composio's
// answer should name that user; one that names another never becomes active. An account
// Composio reports ACTIVE is the tenant's, checked: the drain need not ask again.
import type { ComposioAccount } from "../_shared/composio_accounts.ts";

export type OurStatus = "initiated" | "active" | "inactive" | "expired" | "failed" | "revoked";

export type AccountAnswer =
  | { kind: "account"; account: ComposioAccount }
  /** Composio has no such account (404): the connection request is gone. */
  | { kind: "not_found" }
  /** No usable answer this time (Composio down, rate limited, …): try again later. */
  | { kind: "failed"; message: string };

export interface AccountUpdate {
  status: OurStatus;
  /** Set linked_at to now (the connection just became active). */
  linked: boolean;
  /** Scopes Composio reports granted; null: keep the row's. */
  scopes: string[] | null;
  /** Record the ownership check (verified_*) with this answer; null: record nothing. */
  owned: boolean | null;
}

/** Our status for Composio's. */
export function ourStatus(account: ComposioAccount): OurStatus {
  if (account.disabled) return "inactive";
  switch (account.status) {
    case "INITIALIZING":
    case "INITIATED":
      return "initiated";
    case "ACTIVE":
      return "active";
    case "INACTIVE":
      return "inactive";
    case "EXPIRED":
      return "expired";
    case "FAILED":
      return "failed";
  }
}

/** The update of an initiated row for the answer; null when nothing changes. */
export function reconcile(
  tenantId: string,
  row: { toolkit: string },
  answer: AccountAnswer,
): AccountUpdate | null {
  switch (answer.kind) {
    case "failed":
      return null;
    case "not_found":
      return { status: "failed", linked: false, scopes: null, owned: null };
    case "account": {
      const { account } = answer;
      if (account.userId !== tenantId) {
        return { status: "failed", linked: false, scopes: null, owned: false };
      }
      // An account of another toolkit than the row says cannot stand for it.
      if (account.toolkit !== row.toolkit.toLowerCase()) {
        return { status: "failed", linked: false, scopes: null, owned: true };
      }
      const status = ourStatus(account);
      if (status === "initiated") return null;
      return {
        status,
        linked: status === "active",
        scopes: status === "active" ? account.scopes : null,
        owned: true,
      };
    }
  }
}

import type { FastifyInstance } from "fastify";
import { worldOf } from "../auth";
import { invalidParam } from "../errors";
import type { Teammate, World } from "../state";
import { compileCheck, isEmail } from "../validate";

/** How long an invitation stays open, shown as `expiry` on invited teammates. */
const INVITATION_DAYS = 7;
const ROLES = ["labeler", "member", "manager", "admin"] as const;

const checkInvite = compileCheck<{ emails: string[]; team_role: Teammate["role"] }>({
  type: "object",
  required: ["emails", "team_role"],
  properties: {
    emails: { type: "array", minItems: 1, maxItems: 100, items: { type: "string", minLength: 3, maxLength: 320 } },
    team_role: { enum: [...ROLES] },
  },
});

/** GET_TEAMS and INVITE_TEAM_MEMBER (plus set_role, its sibling). */
export function teamRoutes(app: FastifyInstance): void {
  app.get("/teams", async (request) => teamView(worldOf(request)));

  app.post("/teams/invite", async (request) => {
    const world = worldOf(request);
    const body = checkInvite(request.body ?? {});
    checkEmails(body.emails);
    const expiry = new Date(Date.now() + INVITATION_DAYS * 86_400_000).toISOString();
    for (const email of body.emails) {
      if (world.team.has(email)) continue;
      world.team.set(email, { email, role: body.team_role, isStudioLabeler: body.team_role === "labeler", disableRapidEmails: false, expiry });
    }
    return teamView(world);
  });

  app.post("/teams/set_role", async (request) => {
    const world = worldOf(request);
    const body = checkInvite(request.body ?? {});
    checkEmails(body.emails);
    body.emails.forEach((email, i) => {
      if (!world.team.has(email)) throw invalidParam(`emails[${i}]`, "is not a member of your team");
    });
    for (const email of body.emails) {
      const mate = world.team.get(email) as Teammate;
      mate.role = body.team_role;
      mate.isStudioLabeler = body.team_role === "labeler";
    }
    return teamView(world);
  });
}

function checkEmails(emails: readonly string[]): void {
  emails.forEach((email, i) => {
    if (!isEmail(email)) throw invalidParam(`emails[${i}]`, "must be a valid email");
  });
}

/** All teammates, invitees with their `expiry` (reference §4.6). */
export function teamView(world: World): Record<string, unknown>[] {
  return [...world.team.values()].map((mate) => {
    const view: Record<string, unknown> = { email: mate.email, role: mate.role };
    if (mate.firstName !== undefined) view["firstName"] = mate.firstName;
    if (mate.lastName !== undefined) view["lastName"] = mate.lastName;
    if (mate.company !== undefined) view["company"] = mate.company;
    view["isStudioLabeler"] = mate.isStudioLabeler;
    view["disableRapidEmails"] = mate.disableRapidEmails;
    if (mate.expiry !== undefined) view["expiry"] = mate.expiry;
    return view;
  });
}

// The database contract on embedded PGlite (in memory).
import { createDatabase } from "@cqi/database";
import { databaseContract } from "./database.ts";

databaseContract("pglite", (hooks) => createDatabase("pglite://", hooks));

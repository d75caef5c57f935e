/**
 * The dashboard's face for the rest of the program: the shapes of what the dashboard's feed and
 * data paths send (the server builds them, the page reads them). The page itself is `main.ts`.
 */
export type * from './types.ts';

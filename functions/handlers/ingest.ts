// Being written by the lead in this session.
export const handler = async (): Promise<never> => {
  throw new Error('functions/handlers/ingest.ts is not written yet');
};

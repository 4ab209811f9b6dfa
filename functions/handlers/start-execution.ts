// Being written by the lead in this session.
export const handler = async (): Promise<never> => {
  throw new Error('functions/handlers/start-execution.ts is not written yet');
};

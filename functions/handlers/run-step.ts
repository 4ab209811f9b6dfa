// Being written by the lead in this session.
export const handler = async (): Promise<never> => {
  throw new Error('functions/handlers/run-step.ts is not written yet');
};

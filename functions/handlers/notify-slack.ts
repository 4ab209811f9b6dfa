// Being written by the lead in this session.
export const handler = async (): Promise<never> => {
  throw new Error('functions/handlers/notify-slack.ts is not written yet');
};

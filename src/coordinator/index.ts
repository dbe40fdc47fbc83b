export { Coordinator, type CoordinatorOptions } from './coordinator.ts';
